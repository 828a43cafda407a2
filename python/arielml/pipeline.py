"""Model -> lowered ops -> tiles -> static schedule: the steps every command shares.

`compile_model` is the Python API behind `run`, `build`, `schedule` and `bench`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from arielml.boards import Board
from arielml.costs import task_costs
from arielml.errors import UsageError
from arielml.frontends import load_model
from arielml.ir import Graph
from arielml.lower import Lowered, lower_graph
from arielml.partition import Task, build_tasks
from arielml.passes import optimize
from arielml.schedule import Schedule, barrier_schedule, list_schedule

# Cycles a core loses when it has to wait for another core's task (measured later by
# profiles; this is the analytic default).
SYNC_CYCLES = 150.0
MODES = ("static", "barrier", "exact")


@dataclass
class Compiled:
    source: Path
    graph: Graph
    lowered: list[Lowered]
    tasks: list[Task]
    costs: list[float]
    schedule: Schedule
    cores: int
    mode: str


def load(path: str | Path) -> Graph:
    return optimize(load_model(path))


def core_speeds(board: Board | None, cores: int) -> list[float]:
    """Relative speed of each used core: its clock over the slowest used core's."""
    if board is None:
        return [1.0] * cores
    if not 1 <= cores <= len(board.cores):
        raise UsageError(f"--cores {cores}: board {board.name} has {len(board.cores)} core(s)")
    clocks = [c.clock_hz for c in board.cores[:cores]]
    return [c / min(clocks) for c in clocks]


def tiles_per_op(speeds: list[float]) -> int:
    """Enough equal tiles that cores of different speeds can each take a fair share."""
    return max(1, round(sum(speeds) / min(speeds)))


def compile_graph(g: Graph, *, source: Path, board: Board | None = None, cores: int = 1,
                  mode: str = "static", profile: dict[int, float] | None = None,
                  exact_deps: bool = False) -> Compiled:
    """Tiles, costs and a schedule for `g`.

    exact_deps=False (default) makes a tile wait for whole producer ops: measured on the
    MLPerf Tiny models it is as fast as tile-exact dependencies (within 0.1%) and needs
    up to 2.5x less RAM on 4 cores (benchmarks/speedup.py --deps exact|op).
    """
    if mode not in MODES:
        raise UsageError(f"unknown schedule mode '{mode}' (choose from {', '.join(MODES)})")
    speeds = core_speeds(board, cores)
    lowered = lower_graph(g)
    parts = tiles_per_op(speeds) if cores > 1 else 1
    tasks = build_tasks(g, [parts] * len(g.ops), exact=exact_deps)
    costs = task_costs(g, tasks, profile)
    if mode == "barrier":
        sched = barrier_schedule(tasks, costs, speeds, barrier_cost=SYNC_CYCLES * cores)
    elif mode == "exact":
        from arielml.exact import exact_schedule  # needs ortools, only when asked for

        sched = exact_schedule(tasks, costs, speeds, sync_cost=SYNC_CYCLES)
    else:
        sched = list_schedule(tasks, costs, speeds, sync_cost=SYNC_CYCLES)
    return Compiled(Path(source), g, lowered, tasks, costs, sched, cores, mode)


def compile_model(path: str | Path, **kw) -> Compiled:
    return compile_graph(load(path), source=Path(path), **kw)
