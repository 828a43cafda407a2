"""`arielml flash`: copy or load a built firmware onto a real board."""

from __future__ import annotations

from pathlib import Path

import click

from arielml.flash import flash as do_flash
from arielml.flash import resolve


@click.command()
@click.argument("artifact", required=False, type=click.Path(path_type=Path))
@click.option("--board", "-b", "board_name", default=None,
              help="Board name or board TOML file (default: the artifact's, from its manifest.json).")
def flash(artifact: Path | None, board_name: str | None) -> None:
    """Put firmware on a real board: ARTIFACT is a build directory, manifest.json, .uf2 or .elf.

    \b
    Default ARTIFACT: the most recent `arielml build` for the board in the cache.
    Tries, in order: a mounted UF2 boot drive (RP2040: hold BOOTSEL while plugging in),
    `picotool load -x`, `probe-rs download` (with a debug probe). Exit 3 if none is there.
    """
    board, a = resolve(board_name, artifact)
    click.echo(do_flash(board, a, log=lambda m: click.echo(m, err=True)))
