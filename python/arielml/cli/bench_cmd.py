"""`arielml bench`: latency of a built model, per run and per task."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import click

from arielml.boards import Board, get_board
from arielml.build import build_model
from arielml.errors import UsageError
from arielml.oracle.tensors_io import random_inputs, writable_file
from arielml.target.device import RunResult, qemu_device
from arielml.target.serial_port import (BAUD_HELP, BUILD_HELP, CONNECT_HELP, CONNECT_SECONDS, PORT_HELP,
                                         RUN_SECONDS, default_baud, manifest_inputs, port_build,
                                         port_device)


@click.command()
@click.argument("model", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--board", "-b", "board_name", required=True, help="Board name or board TOML file.")
@click.option("--cores", "-n", type=click.IntRange(min=1), default=None, help="Cores to use (default: all).")
@click.option("--runs", default=5, show_default=True, type=click.IntRange(min=1), help="Inferences to time.")
@click.option("--schedule", "mode", type=click.Choice(["static", "barrier"]), default="static", show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), callback=writable_file, help="Also write the figures here.")
@click.option("--port", "-p", default=None, help=PORT_HELP)
@click.option("--baud", type=click.IntRange(min=1), default=None, help=BAUD_HELP)
@click.option("--build", "build_path", type=click.Path(path_type=Path), default=None, help=BUILD_HELP)
@click.option("--connect-timeout", type=click.FloatRange(min=0, min_open=True), default=CONNECT_SECONDS,
              show_default=True, help=CONNECT_HELP)
def bench(model: Path | None, board_name: str, cores: int | None, runs: int, mode: str,
          json_path: Path | None, port: str | None, baud: int | None, build_path: Path | None,
          connect_timeout: float) -> None:
    """Time MODEL on a board: min/median/max of the board counter and a per-task breakdown.

    \b
    On QEMU the machine runs with -icount shift=0, so counts are deterministic and
    measure executed instructions (of all cores together), not parallel wall time.
    With --port, a real board that already runs the build (`arielml flash`) is timed by
    its own counter: wall time in milliseconds and cycles at the core clock, tasks in
    microseconds (median over the runs). MODEL is optional there: --build names the
    flashed build, and without either the newest build for the board is used.
    """
    if model is not None and not model.is_file():
        raise UsageError(f"{model}: no such file")
    board = get_board(board_name)
    if port is not None:
        _bench_port(model, board, cores, runs, mode, json_path, port, baud, build_path, connect_timeout)
        return
    if not board.emulated:
        raise UsageError(f"{board.name} is a real board: give its serial port with --port "
                         f"(e.g. /dev/ttyACM0) once the build is on it (`arielml flash`)")
    if build_path is not None or baud is not None:
        raise UsageError("--build and --baud go with --port; on QEMU, bench builds MODEL and runs it")
    if model is None:
        raise UsageError(f"MODEL is required on {board.name} (bench builds it and runs it under QEMU)")
    b = build_model(model, board, cores=cores, mode=mode, log=lambda m: click.echo(m, err=True))
    hz = board.firmware.counter_hz
    totals, last = [], None
    with qemu_device(b, board, icount=True) as dev:
        for seed in range(runs):
            last = dev.infer(random_inputs(b.compiled.graph, seed))
            totals.append(last.total_ticks)
    to_instr = 1e9 / hz  # -icount shift=0: one instruction per virtual nanosecond
    figures = {"board": board.name, "cores": b.manifest["cores"], "schedule": mode, "runs": runs,
               "counter_hz": hz, "unit": "instructions (QEMU -icount shift=0, all cores)",
               "min": min(totals) * to_instr, "median": statistics.median(totals) * to_instr,
               "max": max(totals) * to_instr,
               "tasks": [{"id": t["id"], "kind": t["kind"], "core": t["core"], "instructions": c * to_instr}
                         for t, c in zip(b.manifest["tasks"], last.task_ticks)]}
    click.echo(f"{model.name} on {board.name}, {figures['cores']} core(s), {mode} schedule, {runs} runs")
    click.echo(f"  {figures['unit']}: min {figures['min']:,.0f}  median {figures['median']:,.0f}  max {figures['max']:,.0f}")
    for t in figures["tasks"]:
        click.echo(f"  task {t['id']:>3} core {t['core']} {t['kind']:<20} {t['instructions']:>12,.0f}")
    if json_path:
        json_path.write_text(json.dumps(figures, indent=1) + "\n")


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


def _bench_port(model: Path | None, board: Board, cores: int | None, runs: int, mode: str,
                json_path: Path | None, port: str, baud: int | None, build_path: Path | None,
                connect_timeout: float) -> None:
    log = lambda m: click.echo(m, err=True)  # noqa: E731
    build, graph = port_build(board, model=model, build_path=build_path, cores=cores, mode=mode, log=log)
    m = build.manifest
    explicit = click.get_current_context().get_parameter_source("mode") == click.core.ParameterSource.COMMANDLINE
    if explicit and m.get("schedule") != mode:
        raise UsageError(f"--schedule {mode}: {build.out} has a {m.get('schedule')} schedule")
    baud = baud or default_baud(board)
    results = []
    with port_device(build, port, baud, connect_timeout=connect_timeout, log=log) as dev:
        for seed in range(runs):
            inputs = random_inputs(graph, seed) if graph is not None else manifest_inputs(m, seed)
            results.append(dev.infer(inputs, timeout=RUN_SECONDS))
    f = port_figures(board, m, results, port)
    mhz = f["clock_hz"] / 1e6
    click.echo(f"{f['model']} on {board.name} over {port} ({build.out}), {f['cores']} core(s), "
               f"{f['schedule']} schedule, {runs} runs")
    click.echo(f"  milliseconds (board counter at {f['counter_hz']:,} Hz, wall time): min {f['min'] / 1e3:,.3f}  "
               f"median {f['median'] / 1e3:,.3f}  max {f['max'] / 1e3:,.3f}")
    c = f["cycles"]
    click.echo(f"  cycles at {mhz:g} MHz (core 0): min {c['min']:,.0f}  median {c['median']:,.0f}  max {c['max']:,.0f}")
    for t in f["tasks"]:
        click.echo(f"  task {t['id']:>3} core {t['core']} {t['kind']:<20} {t['microseconds']:>12,.1f} us "
                   f"{t['cycles']:>14,.0f} cycles")
    if json_path:
        json_path.write_text(json.dumps(f, indent=1) + "\n")
