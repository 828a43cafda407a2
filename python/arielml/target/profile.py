"""`arielml profile`: measure every task alone on one core, store the costs, reuse them.

The model is tiled as for N cores, but all tasks run on core 0 in dependency order, so
each task's count is its cost without interference. Costs are stored in cycles of core 0,
the unit the scheduler takes (`costs.task_costs`: cycles on a speed-1 core):

- on QEMU the machine runs with -icount shift=0, so counts are instructions (one per
  virtual nanosecond), deterministic, quantised by the board counter (one TIMER0 tick is
  50 instructions on qemu-an521); `unit` is "instructions";
- on a real board over --port, the firmware's counter ticks are wall time: cycles =
  ticks * core 0's clock_hz / counter_hz (RP2040: 133 cycles per 1 us TIMER tick, so a
  task's cost is known to within 133 cycles); `unit` is "cycles". The board must run the
  profiling build (`profile_build`, flashed with `arielml flash DIR`); the minimum over
  the runs is kept, as on QEMU.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from arielml.boards import Board
from arielml.build import build_compiled
from arielml.errors import UsageError
from arielml.oracle.tensors_io import random_inputs
from arielml.paths import cache_dir
from arielml.pipeline import Compiled, compile_model
from arielml.schedule import Placement, Schedule
from arielml.schedule.profiles import Profile, store_profile, tiles_digest
from arielml.target.emulated import emulator_device
from arielml.target.serial_port import CONNECT_SECONDS, RUN_SECONDS, default_baud, port_device


def one_core(c: Compiled) -> Compiled:
    """The same tasks, all on core 0 in id (topological) order."""
    order = tuple(t.id for t in c.tasks)
    placements, clock = [], 0.0
    for t in order:
        placements.append(Placement(t, 0, clock, clock + c.costs[t]))
        clock += c.costs[t]
    sched = Schedule(tuple(placements), (order,), tuple(t.deps for t in c.tasks))
    return dataclasses.replace(c, schedule=sched, cores=1, mode="profile")


def profile_build_dir(model: Path, board: Board, cores: int) -> Path:
    return cache_dir() / "builds" / f"{Path(model).stem}-{board.name}-profile{cores}"


def profile_build(model: Path, board: Board, cores: int, *, log=None):
    """(compiled N-core tiling, the one-core build that measures it)."""
    compiled = compile_model(model, board=board, cores=cores)
    build = build_compiled(one_core(compiled), board, profile_build_dir(model, board, cores), log=log)
    return compiled, build


def profile_model(model: Path, board: Board, cores: int, *, runs: int = 2, log=None,
                  port: str | None = None, baud: int | None = None,
                  connect_timeout: float = CONNECT_SECONDS) -> Profile:
    """Measure, store and return the profile: under QEMU, or with `port` on a real board
    that runs the profiling build (flash it first: `arielml flash <profile_build_dir>`)."""
    if runs < 1:
        raise UsageError(f"--runs {runs}: at least one run is needed")
    if port is None and not board.emulated:
        raise UsageError(f"{board.name} is a real board: give its serial port with --port; the board must "
                         f"run the profiling build {profile_build_dir(model, board, cores)} (profile builds "
                         f"it; flash it with `arielml flash DIR`)")
    log = log or (lambda m: None)
    compiled, build = profile_build(model, board, cores, log=log)
    if port is None:
        scale, unit = 1e9 / board.firmware.counter_hz, "instructions"
        with emulator_device(build, board, icount=True) as dev:
            results = [dev.infer(random_inputs(compiled.graph, seed)) for seed in range(runs)]
    else:
        scale, unit = board.cores[0].clock_hz / board.firmware.counter_hz, "cycles"
        log(f"profiling build: {build.out} (the board must run it: `arielml flash {build.out}`)")
        with port_device(build, port, baud or default_baud(board), connect_timeout=connect_timeout,
                         log=log) as dev:
            results = [dev.infer(random_inputs(compiled.graph, seed), timeout=RUN_SECONDS)
                       for seed in range(runs)]
    per_task = [min(r.task_ticks[t] for r in results) * scale for t in range(len(compiled.tasks))]
    total = min(r.total_ticks for r in results) * scale
    overhead = max(0.0, (total - sum(per_task)) / max(1, len(per_task)))
    prof = Profile(compiled.graph.digest, board.name, cores, per_task, total, overhead, unit,
                   tiles_digest(compiled.tasks))
    store_profile(board, prof)
    return prof
