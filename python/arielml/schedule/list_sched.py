"""Static scheduling of a task DAG onto a board's cores.

`list_schedule` is HEFT-like: tasks in decreasing upward rank (the longest cost path from
the task to the end of the graph), each placed on the core where it would finish first,
given that core's speed and a fixed cost for waiting on a task of another core. Each
core then runs its tasks in order of their planned start. That order is deadlock-free:
planned start times order all tasks consistently with every core's table and every
dependency, so in any real execution each task's dependencies finish eventually.

`barrier_schedule` is the prior art's scheme (Ariel-ML), for comparison: every op cut
into equal tiles handed out round-robin, and a barrier after every op. `exact_schedule`
(arielml.schedule.exact) solves small graphs optimally with CP-SAT and returns the same type.

`simulate` runs a schedule the way the firmware's executor does (each core walks its
table in order, waiting for each task's deps) with any durations; it is the validity
oracle and also re-times a schedule at other core speeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from arielml.schedule.partition import Task


@dataclass(frozen=True)
class Placement:
    task: int
    core: int
    start: float
    finish: float


@dataclass(frozen=True)
class SolveReport:
    """How an exact (solver) schedule was obtained; figures in cycles of a speed-1 core."""

    status: str  # "optimal", "feasible" (time limit hit) or "fallback" (list schedule kept)
    objective: float  # makespan of the returned schedule
    bound: float  # the solver's proven lower bound on any schedule's makespan
    seconds: float
    detail: str = ""

    @property
    def gap(self) -> float:
        """Relative optimality gap: 0 means proven optimal."""
        return max(0.0, (self.objective - self.bound) / self.objective) if self.objective else 0.0


@dataclass(frozen=True)
class Schedule:
    placements: tuple[Placement, ...]  # indexed by task id
    cores: tuple[tuple[int, ...], ...]  # per core, task ids in execution order
    deps: tuple[tuple[int, ...], ...]  # per task, what it waits for (after barriers are added)
    report: SolveReport | None = field(default=None, compare=False)

    @property
    def makespan(self) -> float:
        return max((p.finish for p in self.placements), default=0.0)

    def busy(self, core: int) -> float:
        return sum(self.placements[t].finish - self.placements[t].start for t in self.cores[core])

    def utilisation(self, core: int) -> float:
        return self.busy(core) / self.makespan if self.makespan else 0.0

    def cross_core_waits(self) -> int:
        """Dependencies between tasks on different cores: the synchronisation points."""
        where = {p.task: p.core for p in self.placements}
        return sum(1 for t, ds in enumerate(self.deps) for d in ds if where[d] != where[t])


def upward_ranks(tasks: list[Task], cost: list[float]) -> list[float]:
    succ: list[list[int]] = [[] for _ in tasks]
    for t in tasks:
        for d in t.deps:
            succ[d].append(t.id)
    rank = [0.0] * len(tasks)
    for t in reversed(tasks):  # tasks are in topological order
        rank[t.id] = cost[t.id] + max((rank[s] for s in succ[t.id]), default=0.0)
    return rank


def list_schedule(tasks: list[Task], cost: list[float], speeds: list[float],
                  sync_cost: float = 0.0, allowed: list[frozenset[int]] | None = None) -> Schedule:
    """Place `tasks` (topologically ordered, `cost` in cycles of a speed-1 core); task t
    only on the cores in `allowed[t]` when given (each set non-empty)."""
    rank = upward_ranks(tasks, cost)
    order = sorted(range(len(tasks)), key=lambda t: (-rank[t], t))
    ready = [0.0] * len(speeds)
    placed: dict[int, Placement] = {}
    for t in order:
        best = None
        for core, speed in enumerate(speeds):
            if allowed is not None and core not in allowed[t]:
                continue
            start = ready[core]
            for d in tasks[t].deps:
                p = placed[d]
                start = max(start, p.finish + (sync_cost if p.core != core else 0.0))
            finish = start + cost[t] / speed
            if best is None or finish < best.finish - 1e-9:
                best = Placement(t, core, start, finish)
        placed[t] = best
        ready[best.core] = best.finish
    return _assemble(tasks, placed, len(speeds), [t.deps for t in tasks])


def barrier_schedule(tasks: list[Task], cost: list[float], speeds: list[float],
                     barrier_cost: float = 0.0) -> Schedule:
    """Each op's tiles dealt round-robin to the cores; all cores meet after every op."""
    placed: dict[int, Placement] = {}
    deps: list[tuple[int, ...]] = []
    t_op = 0.0
    previous: list[int] = []
    ops = sorted({t.tile.op for t in tasks})
    for op in ops:
        mine = [t for t in tasks if t.tile.op == op]
        ready = [t_op] * len(speeds)
        for i, t in enumerate(mine):
            core = i % len(speeds)
            placed[t.id] = Placement(t.id, core, ready[core], ready[core] + cost[t.id] / speeds[core])
            ready[core] = placed[t.id].finish
        t_op = max(ready) + barrier_cost
        for t in mine:
            deps.append(tuple(previous))
        previous = [t.id for t in mine]
    return _assemble(tasks, placed, len(speeds), deps)


def _assemble(tasks: list[Task], placed: dict[int, Placement], n_cores: int,
              deps: list[tuple[int, ...]]) -> Schedule:
    placements = tuple(placed[t.id] for t in tasks)
    cores = tuple(tuple(sorted((p.task for p in placements if p.core == c),
                               key=lambda t: (placements[t].start, t))) for c in range(n_cores))
    return Schedule(placements, cores, tuple(tuple(d) for d in deps))


class Deadlock(RuntimeError):
    """The per-core tables and the dependencies wait on each other: a scheduler bug."""


def simulate(s: Schedule, durations: list[float], sync_cost: float = 0.0) -> Schedule:
    """Run `s` as the executor does, task t taking `durations[t]`; the timed result.

    A task starts when its core has finished the previous entry of its table and every
    dependency has finished (plus `sync_cost` when the dependency ran on another core).
    With fixed tables and deps these times do not depend on the order we evaluate cores.
    """
    where = [0] * len(s.deps)
    for c, table in enumerate(s.cores):
        for t in table:
            where[t] = c
    finish: list[float | None] = [None] * len(s.deps)
    placed: dict[int, Placement] = {}
    pos = [0] * len(s.cores)
    free = [0.0] * len(s.cores)
    progress = True
    while progress:
        progress = False
        for c, table in enumerate(s.cores):
            while pos[c] < len(table):
                t = table[pos[c]]
                if any(finish[d] is None for d in s.deps[t]):
                    break
                start = max([free[c]] + [finish[d] + (sync_cost if where[d] != c else 0.0)
                                         for d in s.deps[t]])
                finish[t] = free[c] = start + durations[t]
                placed[t] = Placement(t, c, start, finish[t])
                pos[c] += 1
                progress = True
    if len(placed) < len(s.deps):
        stuck = [s.cores[c][pos[c]] for c in range(len(s.cores)) if pos[c] < len(s.cores[c])]
        raise Deadlock(f"cores stuck before tasks {stuck}")
    return Schedule(tuple(placed[t] for t in range(len(placed))), s.cores, s.deps, s.report)


def retime(s: Schedule, cost: list[float], speeds: list[float], sync_cost: float = 0.0) -> Schedule:
    """`s` with its tables kept, executed on cores of `speeds`."""
    durations = [0.0] * len(s.deps)
    for c, table in enumerate(s.cores):
        for t in table:
            durations[t] = cost[t] / speeds[c]
    return simulate(s, durations, sync_cost)


def makespan_lower_bound(tasks: list[Task], cost: list[float], speeds: list[float]) -> float:
    """What no schedule beats: the critical path on the fastest core, all work on all cores."""
    path = max(upward_ranks(tasks, cost), default=0.0) / max(speeds)
    return max(path, sum(cost) / sum(speeds))
