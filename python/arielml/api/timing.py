"""`bench`: latency of a built model on a board, per run and per task, as a dict of
figures (what `arielml bench --json` writes) plus the lines the command prints.

On QEMU the machine runs with -icount shift=0: counts are instructions of all cores
together, deterministic. On Spike mtime is wall time at one instruction per cycle (1 GHz),
so the same conversion gives the parallel latency in one hart's instructions. On a real board (`port`) its own counter measures wall time."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Callable

from arielml.boards import Board, get_board
from arielml.build import build_model
from arielml.errors import UsageError
from arielml.oracle.tensors_io import random_inputs
from arielml.target.device import RunResult
from arielml.target.emulated import emulator_device
from arielml.target.serial_port import (CONNECT_SECONDS, RUN_SECONDS, default_baud, manifest_inputs, port_build,
                                         port_device)

Log = Callable[[str], None]


_EMULATED_UNIT = {"qemu": "instructions (QEMU -icount shift=0, all cores)",
                  "spike": "instructions of wall time (Spike mtime x 100, harts in parallel)"}


def bench(model: Path | None, board: str | Board, *, cores: int | None = None, runs: int = 5,
          mode: str = "static", port: str | None = None, baud: int | None = None,
          build_path: Path | None = None, connect_timeout: float = CONNECT_SECONDS,
          mode_given: bool = False, log: Log | None = None) -> dict:
    """Figures of `runs` inferences. `mode_given`: the caller asked for `mode` explicitly,
    so a flashed build with another schedule is refused instead of timed."""
    b = board if isinstance(board, Board) else get_board(board)
    log = log or (lambda m: None)
    if port is not None:
        return _bench_port(model, b, cores, runs, mode, port, baud, build_path, connect_timeout, mode_given, log)
    if not b.emulated:
        raise UsageError(f"{b.name} is a real board: give its serial port with --port "
                         f"(e.g. /dev/ttyACM0) once the build is on it (`arielml flash`)")
    if build_path is not None or baud is not None:
        raise UsageError("--build and --baud go with --port; on QEMU, bench builds MODEL and runs it")
    if model is None:
        raise UsageError(f"MODEL is required on {b.name} (bench builds it and runs it under QEMU)")
    built = build_model(model, b, cores=cores, mode=mode, log=log)
    hz = b.firmware.counter_hz
    totals, last = [], None
    with emulator_device(built, b, icount=True) as dev:
        for seed in range(runs):
            last = dev.infer(random_inputs(built.compiled.graph, seed))
            totals.append(last.total_ticks)
    to_instr = 1e9 / hz  # one instruction per (virtual) nanosecond: -icount shift=0, Spike's 1 GHz
    return {"board": b.name, "model": Path(model).name, "cores": built.manifest["cores"], "schedule": mode,
            "runs": runs, "counter_hz": hz, "unit": _EMULATED_UNIT["qemu" if b.qemu is not None else "spike"],
            "min": min(totals) * to_instr, "median": statistics.median(totals) * to_instr,
            "max": max(totals) * to_instr,
            "tasks": [{"id": t["id"], "kind": t["kind"], "core": t["core"], "instructions": c * to_instr}
                      for t, c in zip(built.manifest["tasks"], last.task_ticks)]}


def port_figures(board: Board, manifest: dict, results: list[RunResult], port: str) -> dict:
    """Counter ticks of a real board -> microseconds and cycles.

    The board counter (`counter_hz`) measures wall time: totals are one inference from
    RUN to the last task, tasks are each task's own time on its core. Cycles are that
    time at the clock of the core that ran it (totals: core 0's clock)."""
    hz = board.firmware.counter_hz
    clock0 = board.cores[0].clock_hz
    totals = [r.total_ticks for r in results]

    def stats(scale: float) -> dict:
        return {"min": min(totals) * scale, "median": statistics.median(totals) * scale,
                "max": max(totals) * scale}

    tasks = []
    for i, t in enumerate(manifest["tasks"]):
        ticks = statistics.median(r.task_ticks[i] for r in results)
        clock = board.cores[t["core"]].clock_hz if t["core"] < len(board.cores) else clock0
        tasks.append({"id": t["id"], "kind": t["kind"], "core": t["core"], "ticks": ticks,
                      "microseconds": ticks * 1e6 / hz, "cycles": ticks * clock / hz})
    return {"board": board.name, "port": port, "model": manifest["model"]["file"],
            "cores": manifest["cores"], "schedule": manifest.get("schedule", "static"), "runs": len(results),
            "counter_hz": hz, "clock_hz": clock0,
            "unit": "microseconds (board counter, wall time; tasks: median over the runs)",
            **stats(1e6 / hz), "cycles": stats(clock0 / hz), "ticks": stats(1.0), "tasks": tasks}


def _bench_port(model, board: Board, cores, runs, mode, port, baud, build_path, connect_timeout,
                mode_given: bool, log: Log) -> dict:
    build, graph = port_build(board, model=model, build_path=build_path, cores=cores, mode=mode, log=log)
    m = build.manifest
    if mode_given and m.get("schedule") != mode:
        raise UsageError(f"--schedule {mode}: {build.out} has a {m.get('schedule')} schedule")
    results = []
    with port_device(build, port, baud or default_baud(board), connect_timeout=connect_timeout, log=log) as dev:
        for seed in range(runs):
            inputs = random_inputs(graph, seed) if graph is not None else manifest_inputs(m, seed)
            results.append(dev.infer(inputs, timeout=RUN_SECONDS))
    f = port_figures(board, m, results, port)
    f["build"] = str(build.out)
    return f


def bench_lines(f: dict) -> list[str]:
    """What `arielml bench` prints for figures from `bench`."""
    if "port" not in f:
        lines = [f"{f['model']} on {f['board']}, {f['cores']} core(s), {f['schedule']} schedule, {f['runs']} runs",
                 f"  {f['unit']}: min {f['min']:,.0f}  median {f['median']:,.0f}  max {f['max']:,.0f}"]
        return lines + [f"  task {t['id']:>3} core {t['core']} {t['kind']:<20} {t['instructions']:>12,.0f}"
                        for t in f["tasks"]]
    c = f["cycles"]
    lines = [f"{f['model']} on {f['board']} over {f['port']} ({f['build']}), {f['cores']} core(s), "
             f"{f['schedule']} schedule, {f['runs']} runs",
             f"  milliseconds (board counter at {f['counter_hz']:,} Hz, wall time): min {f['min'] / 1e3:,.3f}  "
             f"median {f['median'] / 1e3:,.3f}  max {f['max'] / 1e3:,.3f}",
             f"  cycles at {f['clock_hz'] / 1e6:g} MHz (core 0): min {c['min']:,.0f}  median {c['median']:,.0f}  "
             f"max {c['max']:,.0f}"]
    return lines + [f"  task {t['id']:>3} core {t['core']} {t['kind']:<20} {t['microseconds']:>12,.1f} us "
                    f"{t['cycles']:>14,.0f} cycles" for t in f["tasks"]]
