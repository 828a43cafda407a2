"""`arielml bench`: latency of a built model, per run and per task."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import click

from arielml.boards import get_board
from arielml.build import build_model
from arielml.errors import UsageError
from arielml.runners.device import qemu_device
from arielml.tensors_io import random_inputs


@click.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--board", "-b", "board_name", required=True, help="Board name or board TOML file.")
@click.option("--cores", "-n", type=int, default=None, help="Cores to use (default: all).")
@click.option("--runs", default=5, show_default=True, help="Inferences to time.")
@click.option("--schedule", "mode", type=click.Choice(["static", "barrier"]), default="static", show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the figures here.")
def bench(model: Path, board_name: str, cores: int | None, runs: int, mode: str, json_path: Path | None) -> None:
    """Time MODEL on a board: min/median/max of the board counter and a per-task breakdown.

    On QEMU the machine runs with -icount shift=0, so counts are deterministic and
    measure executed instructions (of all cores together), not parallel wall time.
    """
    if not model.is_file():
        raise UsageError(f"{model}: no such file")
    board = get_board(board_name)
    if not board.emulated:
        raise UsageError(f"{board.name}: benchmarking real boards over --port is not built yet")
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
