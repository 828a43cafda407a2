"""`arielml bench`: latency of a built model, per run and per task (wraps arielml.api.bench)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from arielml import api
from arielml.cli.options import board_option, cores_option, json_option, log, model_argument, port_options
from arielml.cli.options import schedule_option


@click.command()
@model_argument(required=False)
@board_option()
@cores_option()
@click.option("--runs", default=5, show_default=True, type=click.IntRange(min=1), help="Inferences to time.")
@schedule_option("static", "barrier")
@json_option()
@port_options()
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
    given = click.get_current_context().get_parameter_source("mode") == click.core.ParameterSource.COMMANDLINE
    figures = api.bench(model, board_name, cores=cores, runs=runs, mode=mode, port=port, baud=baud,
                        build_path=build_path, connect_timeout=connect_timeout, mode_given=given, log=log)
    for line in api.bench_lines(figures):
        click.echo(line)
    if json_path:
        json_path.write_text(json.dumps(figures, indent=1) + "\n")
