"""Turning a schedule into a conflict relation (and filtering in-place hints against it).

Sequential schedules: each buffer is live over steps [first, last], inclusive; two buffers
conflict when their intervals share a step. An op at step s that reads A and writes B sees
both live at s, so they conflict unless the caller marks (B, A) in-place safe.

Parallel schedules: each buffer has a set of writer tasks and a set of reader tasks, and
tasks are partially ordered by happens-before (the DAG's edges, closed transitively; a task
does not happen before itself). A buffer is live from its first writer's start to its last
reader's end. With several writers/readers on different cores "first" and "last" are not
single tasks, so the rule is stated over all uses (writers and readers together):

    A and B may share memory  iff  every use of A happens-before every use of B,
                                   or every use of B happens-before every use of A.

Anything weaker is unsafe: if some use of A is merely concurrent with some use of B, the
two tasks can run at the same moment on two cores and clobber each other. A buffer with no
writer is written by the host before any task runs; one with no reader is read by the host
after all tasks finish; both are modelled as virtual SOURCE/SINK tasks so graph inputs and
outputs are live for the whole run unless some task order says otherwise.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from .problem import Buffer, BufferId, PlanError, Problem

Task = Hashable
_SOURCE = object()  # virtual task before every task: the host writing inputs
_SINK = object()  # virtual task after every task: the host reading outputs


def from_intervals(
    buffers: Iterable[Buffer],
    intervals: Mapping[BufferId, tuple[int, int]],
    in_place: Iterable[tuple[BufferId, BufferId]] = (),
) -> Problem:
    """Conflicts from inclusive step intervals; `in_place` holds (output, input) pairs.

    A hint is kept only when the input's last step is the output's first step and the input
    was made earlier: then that step's op consumes the input and produces the output, and
    nothing reads the input later. (Two buffers both born at that step are two outputs, or
    an output and a scratch buffer, which must not share.)
    """
    bufs = tuple(buffers)
    ids = {b.id for b in bufs}
    if missing := [b.id for b in bufs if b.id not in intervals]:
        raise PlanError(f"buffers without an interval: {missing!r}")
    in_place = [(o, i) for o, i in in_place if o in ids and i in ids]
    for b in bufs:
        first, last = intervals[b.id]
        if first > last:
            raise PlanError(f"buffer {b.id!r}: interval [{first}, {last}] is empty")
    # Sweep in order of first step so each pair is compared once and the inner loop stops
    # at the first buffer that starts after the current one ends.
    order = sorted(bufs, key=lambda b: intervals[b.id][0])
    conflicts = []
    for i, a in enumerate(order):
        a_last = intervals[a.id][1]
        for b in order[i + 1 :]:
            if intervals[b.id][0] > a_last:
                break
            conflicts.append((a.id, b.id))
    hints = [
        (o, i)
        for o, i in in_place
        if intervals[i][0] < intervals[i][1] == intervals[o][0]
    ]
    return Problem(bufs, conflicts, hints)


@dataclass(frozen=True)
class Uses:
    """The tasks that write and the tasks that read one buffer."""

    writers: frozenset = frozenset()
    readers: frozenset = frozenset()


def _descendants(tasks: list, edges: Iterable[tuple[Task, Task]]) -> dict[Task, int]:
    """Per task, a bitmask of the tasks that strictly happen after it (transitive)."""
    index = {t: i for i, t in enumerate(tasks)}
    succ: dict[Task, list[Task]] = {t: [] for t in tasks}
    indeg = {t: 0 for t in tasks}
    for a, b in edges:
        succ[a].append(b)
        indeg[b] += 1
    ready = [t for t in tasks if indeg[t] == 0]
    topo = []
    while ready:
        t = ready.pop()
        topo.append(t)
        for s in succ[t]:
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
    if len(topo) != len(tasks):
        raise PlanError("happens-before relation has a cycle")
    after: dict[Task, int] = {}
    for t in reversed(topo):
        mask = 0
        for s in succ[t]:
            mask |= after[s] | (1 << index[s])
        after[t] = mask
    return after


def from_schedule(
    buffers: Iterable[Buffer],
    uses: Mapping[BufferId, Uses],
    happens_before: Iterable[tuple[Task, Task]],
    in_place: Iterable[tuple[BufferId, BufferId]] = (),
    outputs: Iterable[BufferId] = (),
    tiled: Iterable[tuple[BufferId, BufferId]] = (),
) -> Problem:
    """Conflicts from a parallel schedule (rule in the module docstring).

    `outputs` are read by the host after every task, also when tasks read them too: they
    stay live to the end.

    `happens_before` is any set of (earlier, later) task pairs: dependency edges, per-core
    program order, barriers. `tiled` hints are (output, input) pairs of an elementwise op
    whose tiles each read only the input elements they write: kept when the output's
    writers all read the input and `tiled_in_place_ok` orders them against every other use.
    An (output, input) in-place hint is kept only when one task t
    is the sole writer of the output and reads (but does not write) the input, every
    other use of the input happens before t, and t happens before every other use of the
    output.
    """
    bufs = tuple(buffers)
    hb = list(happens_before)
    uses = dict(uses)
    for o in outputs:
        u = uses.get(o, Uses())
        uses[o] = Uses(u.writers, frozenset(u.readers) | {_SINK})
    tasks = {t for u in uses.values() for t in (*u.writers, *u.readers)}
    tasks |= {t for pair in hb for t in pair}
    real = [t for t in tasks if t is not _SOURCE and t is not _SINK]
    edges = hb + [(_SOURCE, t) for t in real] + [(t, _SINK) for t in real]
    edges.append((_SOURCE, _SINK))
    all_tasks = [_SOURCE, _SINK, *real]
    index = {t: i for i, t in enumerate(all_tasks)}
    after = _descendants(all_tasks, edges)

    def use_set(b: Buffer) -> list[Task]:
        u = uses.get(b.id, Uses())
        return [*(u.writers or (_SOURCE,)), *(u.readers or (_SINK,))]

    use_mask, common_after = {}, {}
    for b in bufs:
        ts = use_set(b)
        use_mask[b.id] = sum(1 << index[t] for t in set(ts))
        common = -1  # all ones: the tasks after *every* use of b
        for t in ts:
            common &= after[t]
        common_after[b.id] = common

    def before(a: BufferId, b: BufferId) -> bool:
        return use_mask[b] & ~common_after[a] == 0

    conflicts = [
        (a.id, b.id)
        for i, a in enumerate(bufs)
        for b in bufs[i + 1 :]
        if not before(a.id, b.id) and not before(b.id, a.id)
    ]
    hints = [(o, i) for o, i in in_place if _in_place_ok(uses, after, index, o, i)]
    hints += [(o, i) for o, i in tiled if _tiled_ok(uses, after, index, o, i)]
    return Problem(bufs, conflicts, hints)


def _in_place_ok(uses, after, index, out: BufferId, inp: BufferId) -> bool:
    u_out, u_in = uses.get(out, Uses()), uses.get(inp, Uses())
    if len(u_out.writers) != 1:
        return False
    (t,) = u_out.writers
    if t not in u_in.readers or t in u_in.writers:
        return False  # t must consume an input made before it, not its own scratch
    others_in = (set(u_in.writers) | set(u_in.readers)) - {t}
    others_out = set(u_out.readers) - {t}
    if not u_in.writers:
        return False  # a graph input belongs to the host: never overwrite it
    bit_t = 1 << index[t]
    return all(after[x] & bit_t for x in others_in) and all(
        after[t] & (1 << index[y]) for y in others_out
    )


def tiled_in_place_ok(happens_before: Iterable[tuple[Task, Task]], tasks: Iterable[Task],
                      before: Iterable[Task], after: Iterable[Task]) -> bool:
    """May `tasks` (several, maybe concurrent on several cores) overwrite a buffer tile
    by tile? The caller vouches that each task reads only the elements it writes (an
    elementwise op without broadcasting, tiles that do not overlap); what remains is
    time: every task in `before` (the buffer's other uses) must happen before every one
    of `tasks`, and every one of `tasks` before every task in `after` (the uses of what
    they write). A task in both sets can never be ordered against itself."""
    tasks, before, after = set(tasks), set(before), set(after)
    if not tasks or tasks & (before | after):
        return False
    edges = list(happens_before)
    nodes = list(tasks | before | after | {t for e in edges for t in e})
    index = {t: i for i, t in enumerate(nodes)}
    desc = _descendants(nodes, edges)
    mask = sum(1 << index[t] for t in tasks)
    after_mask = sum(1 << index[t] for t in after)
    return (all(desc[b] & mask == mask for b in before)
            and all(desc[t] & after_mask == after_mask for t in tasks))


def _tiled_ok(uses, after, index, out: BufferId, inp: BufferId) -> bool:
    u_out, u_in = uses.get(out, Uses()), uses.get(inp, Uses())
    tasks = set(u_out.writers)
    if not tasks or not u_in.writers or not tasks <= set(u_in.readers) or tasks & set(u_in.writers):
        return False  # a graph input (no writer) belongs to the host
    others_in = (set(u_in.writers) | set(u_in.readers)) - tasks
    others_out = set(u_out.readers) - tasks
    mask = sum(1 << index[t] for t in tasks)
    return all(after[x] & mask == mask for x in others_in) and all(
        all(after[t] & (1 << index[y]) for t in tasks) for y in others_out)
