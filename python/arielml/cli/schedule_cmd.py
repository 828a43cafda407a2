"""`arielml schedule MODEL`: the static schedule's estimated figures against the barrier
baseline (the prior art), and optionally a Gantt chart (wraps arielml.api.schedule)."""

from __future__ import annotations

from pathlib import Path

import click

from arielml import api
from arielml.cli.options import board_option, cores_option, model_argument, schedule_option, writable_file
from arielml.schedule.exact import DEFAULT_TIME_LIMIT


@click.command()
@model_argument()
@board_option()
@cores_option()
@schedule_option("static", "barrier", "exact")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_TIME_LIMIT, show_default=True,
              help="Seconds the exact solver may take.")
@click.option("--gantt", type=click.Path(dir_okay=False, path_type=Path), callback=writable_file,
              help="Write an SVG Gantt chart of the schedule here.")
def schedule(model: Path, board_name: str, cores: int | None, mode: str, time_limit: float,
             gantt: Path | None) -> None:
    """Estimate MODEL's schedule on a board, next to the barrier-per-op baseline.

    Figures are estimates from the cost model (cycles of the slowest core used), not
    measurements: `arielml bench` measures.
    """
    c, base = api.schedule(model, board_name, cores, mode, time_limit)
    for line in api.schedule_lines(model, board_name, c, base):
        click.echo(line)
    if gantt is not None:
        gantt.write_text(api.gantt(model, c))
        click.echo(f"gantt: {gantt}")
