"""`arielml profile`: measure each task's cost on the board; later builds schedule with it."""

from __future__ import annotations

from pathlib import Path

import click

from arielml.boards import get_board
from arielml.errors import UsageError
from arielml.schedule.profiles import profile_path
from arielml.target.profile import profile_model
from arielml.target.serial_port import BAUD_HELP, CONNECT_HELP, CONNECT_SECONDS, PORT_HELP


@click.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--board", "-b", "board_name", required=True, help="Board name or board TOML file.")
@click.option("--cores", "-n", type=click.IntRange(min=1), default=None, help="Tiling to profile (default: all cores).")
@click.option("--runs", default=2, show_default=True, type=click.IntRange(min=1),
              help="Inferences; the minimum per task is kept.")
@click.option("--port", "-p", default=None,
              help=PORT_HELP.replace("already running the build", "already running the profiling build"))
@click.option("--baud", type=click.IntRange(min=1), default=None, help=BAUD_HELP)
@click.option("--connect-timeout", type=click.FloatRange(min=0, min_open=True), default=CONNECT_SECONDS,
              show_default=True, help=CONNECT_HELP)
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
    if not model.is_file():
        raise UsageError(f"{model}: no such file")
    board = get_board(board_name)
    if port is None and baud is not None:
        raise UsageError("--baud goes with --port")
    cores = cores or len(board.cores)
    p = profile_model(model, board, cores, runs=runs, log=lambda m: click.echo(m, err=True),
                      port=port, baud=baud, connect_timeout=connect_timeout)
    click.echo(f"{len(p.task_instructions)} tasks, {p.total_instructions:,.0f} {p.unit} on one core, "
               f"executor overhead {p.overhead_per_task:,.0f} per task")
    if port is not None:
        click.echo(f"  = {p.total_instructions / board.cores[0].clock_hz * 1e3:,.3f} ms at "
                   f"{board.cores[0].clock_hz / 1e6:g} MHz")
    click.echo(f"stored in {profile_path(model, board, cores)}")
