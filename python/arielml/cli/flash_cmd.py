"""`arielml flash`: copy or load a built firmware onto a real board."""

from __future__ import annotations

from pathlib import Path

import click

from arielml.cli.options import board_option, log
from arielml.target.flash import flash as do_flash
from arielml.target.flash import resolve


@click.command()
@click.argument("artifact", required=False, type=click.Path(path_type=Path))
@board_option(required=False, help="Board name or board TOML file (default: the artifact's, from its manifest.json).")
def flash(artifact: Path | None, board_name: str | None) -> None:
    """Put firmware on a real board: ARTIFACT is a build directory, manifest.json, .uf2 or .elf.

    \b
    Default ARTIFACT: the most recent `arielml build` for the board in the cache.
    RP2040/RP2350: a mounted UF2 boot drive (hold BOOTSEL while plugging in), else
    `picotool load -x`, else `probe-rs download` (with a debug probe).
    ESP32-C3: `espflash flash`, else esptool (elf2image + write_flash 0x10000).
    nRF5340, STM32H745: `probe-rs download` of every image, then `probe-rs reset`.
    Exit 3, naming what to install, if no way is there.
    """
    board, a = resolve(board_name, artifact)
    click.echo(do_flash(board, a, log=log))
