"""Two planners over the same `Problem`: greedy best-fit, and the no-reuse oracle.

The oracle gives every buffer its own region; it is trivially correct and is the yardstick
the greedy planner must never lose to. The greedy planner follows TFLM's
GreedyMemoryPlanner: biggest buffers first, each at the lowest aligned offset that
overlaps no already-placed buffer it conflicts with. Big buffers placed first pin the
arena's shape and small ones fill the holes between them, which is what makes the
heuristic close to optimal on real networks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .problem import BufferId, Plan, Problem, align_up


def plan_oracle(problem: Problem) -> Plan:
    """Every buffer its own region, in the order given: no reuse, so nothing can collide."""
    offsets, end = {}, 0
    for b in problem.buffers:
        offsets[b.id] = align_up(end, b.align)
        end = offsets[b.id] + b.size
    return Plan(problem, offsets, end, "oracle")


@dataclass
class _Group:
    """Buffers pinned to one offset by in-place hints; placed as a single block."""

    first: int  # smallest input index of a member: the deterministic tie-breaker
    members: list[BufferId]
    size: int
    align: int
    conflicts: set[BufferId] = field(default_factory=set)


def _alias_groups(problem: Problem) -> tuple[list[_Group], dict[BufferId, int]]:
    """Merge in-place pairs into groups, refusing a merge that would co-locate two
    buffers that conflict without a hint between them (e.g. two outputs of one input)."""
    order = {b.id: i for i, b in enumerate(problem.buffers)}
    adj = problem.neighbours()
    groups = [
        _Group(i, [b.id], b.size, b.align, set(adj[b.id])) for i, b in enumerate(problem.buffers)
    ]
    owner = {b.id: i for i, b in enumerate(problem.buffers)}
    # Only conflicting hints matter: non-conflicting buffers may overlap anyway.
    hints = sorted(
        (sorted(pair, key=order.__getitem__) for pair in problem.may_alias & problem.conflicts),
        key=lambda p: (order[p[0]], order[p[1]]),
    )
    for a, b in hints:
        ga, gb = groups[owner[a]], groups[owner[b]]
        if ga is gb:
            continue
        allowed = problem.may_alias
        if any(
            y in adj[x] and frozenset((x, y)) not in allowed
            for x in ga.members
            for y in gb.members
        ):
            continue
        ga.members += gb.members
        ga.size, ga.align = max(ga.size, gb.size), max(ga.align, gb.align)
        ga.conflicts |= gb.conflicts
        ga.first = min(ga.first, gb.first)
        for m in gb.members:
            owner[m] = owner[a]
        gb.members = []
    live = [g for g in groups if g.members]
    for g in live:
        g.conflicts -= set(g.members)
    index = {id(g): i for i, g in enumerate(live)}
    return live, {m: index[id(groups[owner[m]])] for m in owner}


def _lowest_fit(taken: list[tuple[int, int]], size: int, align: int) -> int:
    """Lowest multiple of `align` where [off, off+size) misses every interval in `taken`."""
    if size == 0:
        return 0  # an empty buffer overlaps nothing
    off = 0
    for start, end in sorted(taken):
        if end <= off or start == end:
            continue
        if off + size <= start:
            break
        off = align_up(end, align)
    return off


def plan_greedy(problem: Problem) -> Plan:
    """Greedy best-fit with in-place aliasing; never worse than `plan_oracle`.

    With mixed alignments, size order can strand padding that input order avoids (a big
    byte-aligned buffer pushing a small 16-aligned one to the next boundary), so the
    greedy layout is compared with the oracle's and the smaller wins.
    """
    groups, group_of = _alias_groups(problem)
    placed: dict[int, int] = {}  # group index -> offset
    for gi in sorted(range(len(groups)), key=lambda i: (-groups[i].size, groups[i].first)):
        g = groups[gi]
        near = {group_of[c] for c in g.conflicts}
        taken = [(placed[n], placed[n] + groups[n].size) for n in near if n in placed]
        placed[gi] = _lowest_fit(taken, g.size, g.align)
    offsets = {b.id: placed[group_of[b.id]] for b in problem.buffers}
    size = max((offsets[b.id] + b.size for b in problem.buffers), default=0)
    greedy = Plan(problem, offsets, size, "greedy")
    oracle = plan_oracle(problem)
    if oracle.arena_size < greedy.arena_size:
        return Plan(problem, oracle.offsets, oracle.arena_size, "greedy->oracle")
    return greedy
