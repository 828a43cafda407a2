"""`arielml doctor`: which toolchain, linker and emulator each board will use."""

from __future__ import annotations

import click

from arielml.boards import get_board, load_boards
from arielml.errors import ToolMissing
from arielml.target.doctor import check_all


@click.command()
@click.option("--board", "-b", "board_names", multiple=True,
              help="Check only this board (repeatable). Default: every known board.")
def doctor(board_names: tuple[str, ...]) -> None:
    """Check toolchains, linker, QEMU and reference interpreters; print fixes.

    Exits non-zero when a required piece is missing for a checked board.
    """
    boards = [get_board(n) for n in board_names] if board_names else load_boards()
    findings = check_all(boards)
    scope = None
    for f in findings:
        if f.scope != scope:
            scope = f.scope
            click.echo(f"{scope}:" if scope == "python" else f"board {scope}:")
        mark = "ok     " if f.ok else ("MISSING" if f.required else "absent ")
        click.echo(f"  {mark} {f.what}: {f.detail}")
    missing = [f for f in findings if f.required and not f.ok]
    if missing:
        names = ", ".join(f"{f.what} ({f.scope})" for f in missing)
        raise ToolMissing(f"missing: {names}; run the fix commands above")
    click.echo("all required tools found")
