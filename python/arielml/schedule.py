"""Static scheduling of a task DAG onto a board's cores.

`list_schedule` is HEFT-like: tasks in decreasing upward rank (the longest cost path from
the task to the end of the graph), each placed on the core where it would finish first,
given that core's speed and a fixed cost for waiting on a task of another core. Each
core then runs its tasks in order of their planned start. That order is deadlock-free:
planned start times order all tasks consistently with every core's table and every
dependency, so in any real execution each task's dependencies finish eventually.

`barrier_schedule` is the prior art's scheme (Ariel-ML), for comparison: every op cut
into equal tiles handed out round-robin, and a barrier after every op.
"""

from __future__ import annotations

from dataclasses import dataclass

from arielml.partition import Task


@dataclass(frozen=True)
class Placement:
    task: int
    core: int
    start: float
    finish: float


@dataclass(frozen=True)
class Schedule:
    placements: tuple[Placement, ...]  # indexed by task id
    cores: tuple[tuple[int, ...], ...]  # per core, task ids in execution order
    deps: tuple[tuple[int, ...], ...]  # per task, what it waits for (after barriers are added)

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
                  sync_cost: float = 0.0) -> Schedule:
    """Place `tasks` (topologically ordered, `cost` in cycles of a speed-1 core)."""
    rank = upward_ranks(tasks, cost)
    order = sorted(range(len(tasks)), key=lambda t: (-rank[t], t))
    ready = [0.0] * len(speeds)
    placed: dict[int, Placement] = {}
    for t in order:
        best = None
        for core, speed in enumerate(speeds):
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
