"""Parallel latency from measured per-task costs, replayed over a static schedule.

QEMU's -icount clock counts the instructions of all cores together (the cores run
round-robin), so it measures work, not parallel latency. Latency is therefore computed:
every task takes its measured single-core time, plus the executor's measured per-task
overhead, and a task whose dependency ran on another core also waits a wake-up latency.
Each core runs its table in order, exactly as the firmware's executor does.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Replay:
    makespan: float
    busy: tuple[float, ...]  # per core: time spent running tasks
    cross_waits: int  # dependencies that crossed cores
    stalled: float  # total time cores spent waiting for another core


def replay(cores: tuple[tuple[int, ...], ...], deps: tuple[tuple[int, ...], ...],
           durations: list[float], overhead: float = 0.0, wake_latency: float = 0.0) -> Replay:
    where = {t: c for c, table in enumerate(cores) for t in table}
    finish: dict[int, float] = {}
    clock = [0.0] * len(cores)
    pos = [0] * len(cores)
    busy = [0.0] * len(cores)
    stalled, crossings = 0.0, 0
    remaining = sum(len(t) for t in cores)
    while remaining:
        progressed = False
        for c, table in enumerate(cores):
            while pos[c] < len(table):
                t = table[pos[c]]
                if any(d not in finish for d in deps[t]):
                    break  # wait for another core's task: retry after the others advance
                ready = clock[c]
                for d in deps[t]:
                    cross = where[d] != c
                    crossings += cross
                    ready = max(ready, finish[d] + (wake_latency if cross else 0.0))
                stalled += ready - clock[c]
                run = durations[t] + overhead
                finish[t] = ready + run
                clock[c] = finish[t]
                busy[c] += run
                pos[c] += 1
                remaining -= 1
                progressed = True
        if not progressed:
            raise ValueError("the schedule deadlocks: per-core orders contradict dependencies")
    return Replay(max(clock, default=0.0), tuple(busy), crossings, stalled)
