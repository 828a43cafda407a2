"""Checking a plan, bounding it from below, and describing it.

`validate` is the definition of a correct plan; the planners are tested against it, never
against each other. `lower_bound` is what no planner can beat on a sequential schedule (a
parallel schedule can use it on any topological order of its tasks, because a parallel
conflict relation contains every conflict of each of its linearisations).
"""

from __future__ import annotations

from collections.abc import Mapping

from .problem import BufferId, Plan


def _overlap(a_off: int, a_size: int, b_off: int, b_size: int) -> bool:
    return a_size > 0 and b_size > 0 and a_off < b_off + b_size and b_off < a_off + a_size


def validate(plan: Plan, capacity: int | None = None) -> list[str]:
    """Every way `plan` is wrong, one line each; an empty list means it is correct.

    Correct means: every buffer has an offset, offsets respect alignment, every buffer ends
    inside the arena (and the arena inside `capacity` if given), and no two conflicting
    buffers overlap unless they are an in-place pair placed at exactly the same offset.
    """
    problems: list[str] = []
    bufs = plan.problem.by_id()
    for bid, b in bufs.items():
        off = plan.offsets.get(bid)
        if off is None:
            problems.append(f"{bid!r}: no offset")
            continue
        if off < 0 or off % b.align:
            problems.append(f"{bid!r}: offset {off} breaks alignment {b.align}")
        if off + b.size > plan.arena_size:
            problems.append(f"{bid!r}: ends at {off + b.size} > arena {plan.arena_size}")
    if capacity is not None and plan.arena_size > capacity:
        problems.append(f"arena {plan.arena_size} bytes > capacity {capacity}")
    for pair in plan.problem.conflicts:
        a, b = sorted(pair, key=repr)
        if a not in plan.offsets or b not in plan.offsets:
            continue
        oa, ob = plan.offsets[a], plan.offsets[b]
        if not _overlap(oa, bufs[a].size, ob, bufs[b].size):
            continue
        if pair in plan.problem.may_alias and oa == ob:
            continue
        problems.append(
            f"{a!r} [{oa}, +{bufs[a].size}) overlaps conflicting {b!r} [{ob}, +{bufs[b].size})"
        )
    return sorted(problems)


def lower_bound(plan_or_sizes, intervals: Mapping[BufferId, tuple[int, int]]) -> int:
    """Max over steps of the bytes live at that step: a floor for any sequential plan.

    Accepts a Plan/Problem (its buffers' sizes are used) or a {id: size} mapping.
    """
    if isinstance(plan_or_sizes, Mapping):
        sizes = dict(plan_or_sizes)
    else:
        problem = getattr(plan_or_sizes, "problem", plan_or_sizes)
        sizes = {b.id: b.size for b in problem.buffers}
    # Sweep: +size at first step, -size after last step.
    delta: dict[int, int] = {}
    for bid, size in sizes.items():
        first, last = intervals[bid]
        delta[first] = delta.get(first, 0) + size
        delta[last + 1] = delta.get(last + 1, 0) - size
    live = best = 0
    for step in sorted(delta):
        live += delta[step]
        best = max(best, live)
    return best


def report(plan: Plan) -> dict:
    """Peak bytes and per-buffer placement, by offset: JSON-ready for the build manifest."""
    bufs = plan.problem.by_id()
    order = {b.id: i for i, b in enumerate(plan.problem.buffers)}
    rows = sorted(bufs, key=lambda i: (plan.offsets[i], order[i]))
    total = sum(b.size for b in bufs.values())
    return {
        "method": plan.method,
        "peak_bytes": plan.arena_size,
        "unshared_bytes": total,
        "buffers": [
            {"id": i, "offset": plan.offsets[i], "size": bufs[i].size, "align": bufs[i].align}
            for i in rows
        ],
    }


def format_report(plan: Plan) -> str:
    """The report as a small text table for logs and `arielml` CLI output."""
    rep = report(plan)
    saved = rep["unshared_bytes"] - rep["peak_bytes"]
    lines = [f"arena {rep['peak_bytes']} bytes ({rep['method']}; reuse saves {saved} bytes)"]
    for row in rep["buffers"]:
        end = row["offset"] + row["size"]
        lines.append(f"  {row['offset']:>8} .. {end:<8} {row['size']:>8} B  {row['id']}")
    return "\n".join(lines)
