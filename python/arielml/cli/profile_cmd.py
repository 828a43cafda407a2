"""`arielml profile`: measure each task's cost on the board; later builds schedule with it."""

from __future__ import annotations

from pathlib import Path

import click

from arielml.boards import get_board
from arielml.cli.options import board_option, cores_option, log, model_argument, port_options
from arielml.errors import UsageError
from arielml.schedule.profiles import profile_path
from arielml.target.profile import profile_model
from arielml.target.serial_port import PORT_HELP


@click.command()
@model_argument()
@board_option()
@cores_option("Tiling to profile (default: all of the board's cores).")
@click.option("--runs", default=2, show_default=True, type=click.IntRange(min=1),
              help="Inferences; the minimum per task is kept.")
@port_options(build=False, port_help=PORT_HELP.replace("running the build", "running the profiling build"))
def profile(model: Path, board_name: str, cores: int | None, runs: int, port: str | None,
            baud: int | None, connect_timeout: float) -> None:
    """Measure every task of MODEL alone on one core and store the costs.

    \b
    On QEMU the counts are instructions (-icount shift=0). On a real board (--port) the
    board counter's wall time is converted to cycles of core 0 (ticks x clock_hz /
    counter_hz); the board must run the one-core profiling build this command makes
    (it prints where; `arielml flash DIR` puts it on the board). `build`, `run` and
    `bench` then schedule with these measured costs instead of the analytic estimate.
    """
    board = get_board(board_name)
    if port is None and baud is not None:
        raise UsageError("--baud goes with --port")
    cores = cores or len(board.cores)
    p = profile_model(model, board, cores, runs=runs, log=log,
                      port=port, baud=baud, connect_timeout=connect_timeout)
    click.echo(f"{len(p.task_instructions)} tasks, {p.total_instructions:,.0f} {p.unit} on one core, "
               f"executor overhead {p.overhead_per_task:,.0f} per task")
    if port is not None:
        click.echo(f"  = {p.total_instructions / board.cores[0].clock_hz * 1e3:,.3f} ms at "
                   f"{board.cores[0].clock_hz / 1e6:g} MHz")
    click.echo(f"stored in {profile_path(p.model_sha256, board, cores)}")
