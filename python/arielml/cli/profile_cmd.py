"""`arielml profile`: measure each task's cost on the board; later builds schedule with it."""

from __future__ import annotations

from pathlib import Path

import click

from arielml.boards import get_board
from arielml.errors import UsageError
from arielml.profile import profile_model, profile_path


@click.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--board", "-b", "board_name", required=True, help="Board name or board TOML file.")
@click.option("--cores", "-n", type=int, default=None, help="Tiling to profile (default: all cores).")
@click.option("--runs", default=2, show_default=True, help="Inferences; the minimum per task is kept.")
def profile(model: Path, board_name: str, cores: int | None, runs: int) -> None:
    """Measure every task of MODEL alone on one core and store the costs.

    On QEMU the counts are instructions (-icount shift=0). `build`, `run` and `bench`
    then schedule with these measured costs instead of the analytic estimate.
    """
    if not model.is_file():
        raise UsageError(f"{model}: no such file")
    board = get_board(board_name)
    cores = cores or len(board.cores)
    p = profile_model(model, board, cores, runs=runs, log=lambda m: click.echo(m, err=True))
    click.echo(f"{len(p.task_instructions)} tasks, {p.total_instructions:,.0f} instructions on one core, "
               f"executor overhead {p.overhead_per_task:,.0f} per task")
    click.echo(f"stored in {profile_path(model, board, cores)}")
