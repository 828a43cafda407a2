"""Model -> lowered ops -> tiles -> static schedule: the steps every command shares.

`compile_model` is the Python API behind `run`, `build`, `schedule` and `bench`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arielml.boards import Board
from arielml.errors import UsageError
from arielml.frontends import load_model
from arielml.ir import Graph
from arielml.ir.kinds import out_grid
from arielml.lower import Lowered, lower_graph
from arielml.lower.packing import board_family
from arielml.passes import optimize
from arielml.schedule import Schedule, barrier_schedule, list_schedule
from arielml.schedule.costs import task_costs
from arielml.schedule.partition import Task, build_tasks

# Cycles a core loses when it has to wait for another core's task (measured later by
# profiles; this is the analytic default).
SYNC_CYCLES = 150.0
MODES = ("static", "barrier", "exact")
# Flash the code (kernels, runtime, board crate) takes besides the constants, for fit
# checks made before linking (the RP2040 with its USB stack: 50-62 KB).
CODE_ESTIMATE = 64 * 1024


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

    def scratch_words(self) -> list[int]:
        """Per core: u32 words of the scratch buffer its tasks share (the largest any of
        them needs; tasks of one core run one at a time)."""
        words = [0] * len(self.schedule.cores)
        for t in self.tasks:
            k = self.schedule.placements[t.id].core
            words[k] = max(words[k], self.lowered[t.tile.op].scratch_words)
        return words


def load(path: str | Path) -> Graph:
    return initialise(optimize(load_model(path)))


def initialise(g: Graph) -> Graph:
    """`g` with its variables' initial values computed: a CALL_ONCE init subgraph that
    computes them from constants (Graph.init_graph) is run here, once, on the host
    kernels, as TFLM runs it on the first invocation; the result needs no init graph."""
    if g.init_graph is None:
        return g
    init = optimize(g.init_graph)
    env = {n: t.data for n, t in init.tensors.items() if t.is_const}
    for low in lower_graph(init):
        rows, chans = out_grid(low.op.kind, low.out_shape)
        env.update(low.host_all(env, (0, rows, 0, chans), {}))
    tensors = dict(g.tensors)
    for var, out in g.init_assign.items():
        v, value = tensors[var], np.ascontiguousarray(env[out])
        init_value = np.frombuffer(value.tobytes(), v.dtype.numpy).reshape(v.shape).copy()
        tensors[var] = dataclasses.replace(v, init=init_value)
    done = g.replace(tensors=tensors)
    done.init_graph, done.init_assign = None, {}
    return done


# The host (no board) tiles for at most this many equal cores: the tiling of any board here.
HOST_MAX_CORES = 16


def core_speeds(board: Board | None, cores: int) -> list[float]:
    """Relative speed of each used core: its clock over the slowest used core's."""
    if board is None:
        if not 1 <= cores <= HOST_MAX_CORES:
            raise UsageError(f"--cores {cores}: the host run tiles for 1 to {HOST_MAX_CORES} cores")
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
    g = initialise(g)  # a graph straight from a frontend may still carry its init graph
    if not g.digest and Path(source).is_file():  # a graph not read by load_model (tests, tools)
        g.digest = hashlib.sha256(Path(source).read_bytes()).hexdigest()
    speeds = core_speeds(board, cores)
    lowered = lower_graph(g, board_family(board))
    parts = tiles_per_op(speeds) if cores > 1 else 1
    tasks = build_tasks(g, [parts] * len(g.ops), exact=exact_deps)
    costs = task_costs(g, tasks, profile)
    if mode == "barrier":
        sched = barrier_schedule(tasks, costs, speeds, barrier_cost=SYNC_CYCLES * cores)
    elif mode == "exact":
        from arielml.schedule.exact import exact_schedule  # needs ortools, only when asked for

        sched = exact_schedule(tasks, costs, speeds, sync_cost=SYNC_CYCLES)
    else:
        sched = list_schedule(tasks, costs, speeds, sync_cost=SYNC_CYCLES)
        if board is not None and board.multi_image and cores > 1:
            sched = fit_image_flash(lowered, tasks, costs, speeds, sched, board)
    return Compiled(Path(source), g, lowered, tasks, costs, sched, cores, mode)


def op_constant_bytes(lowered: list[Lowered]) -> list[int]:
    """Bytes each op adds to a constants blob that holds any tile of it: its lowered
    constants (weights, biases, per-channel multipliers...), 8-byte aligned as packed."""
    return [sum(-(-a.nbytes // 8) * 8 for a in low.consts.values()) for low in lowered]


def fit_image_flash(lowered: list[Lowered], tasks: list[Task], costs: list[float], speeds: list[float],
                    sched: Schedule, board: Board) -> Schedule:
    """On a board whose cores boot separate images, each image's flash holds the constants
    of the ops its core runs tiles of. While some core's image would overflow (its
    constants + CODE_ESTIMATE over its flash), keep the op with the most constants among
    those it runs off that core and schedule again (nRF5340: the network core's 256 KiB).
    Stops when every image fits or no op can move; the build's fit check then reports."""
    cores = len(speeds)
    budget = [board.named(board.images[k].flash).size - CODE_ESTIMATE for k in range(cores)]
    op_bytes = op_constant_bytes(lowered)
    allowed = [set(range(cores)) for _ in lowered]
    for _ in range(len(lowered) * cores):
        ops_on = [set() for _ in range(cores)]
        for t in tasks:
            ops_on[sched.placements[t.id].core].add(t.tile.op)
        over = [k for k in range(cores) if sum(op_bytes[o] for o in ops_on[k]) > budget[k]]
        if not over:
            break
        movable = [o for o in ops_on[over[0]] if len(allowed[o]) > 1 and op_bytes[o]]
        if not movable:
            break
        allowed[max(movable, key=lambda o: (op_bytes[o], -o))].discard(over[0])
        sched = list_schedule(tasks, costs, speeds, sync_cost=SYNC_CYCLES,
                              allowed=[frozenset(allowed[t.tile.op]) for t in tasks])
    return sched


def compile_model(path: str | Path, **kw) -> Compiled:
    return compile_graph(load(path), source=Path(path), **kw)
