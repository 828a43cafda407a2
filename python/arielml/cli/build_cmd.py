"""`arielml build`: firmware for a model and a board, with a manifest."""

from __future__ import annotations

from pathlib import Path

import click

from arielml.boards import get_board
from arielml.build import build_model
from arielml.errors import UsageError


@click.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--board", "-b", "board_name", required=True, help="Board name or board TOML file.")
@click.option("--cores", "-n", type=click.IntRange(min=1), default=None, help="Cores to use (default: all of the board's).")
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Output directory (default: ~/.cache/arielml/builds/MODEL-BOARD-Nc).")
@click.option("--schedule", "mode", type=click.Choice(["static", "barrier"]), default="static",
              show_default=True, help="static: our scheduler; barrier: equal tiles and a barrier after every op (the prior art).")
def build(model: Path, board_name: str, cores: int | None, out: Path | None, mode: str) -> None:
    """Generate and compile the firmware for MODEL on a board.

    Writes firmware.elf (and firmware.bin where the board wants it), the generated crate
    and manifest.json (tasks per core, memory map, flash and RAM use read from the ELF).
    """
    if not model.is_file():
        raise UsageError(f"{model}: no such file")
    board = get_board(board_name)
    b = build_model(model, board, cores=cores, out=out, mode=mode, log=lambda m: click.echo(m, err=True))
    mem = b.manifest["memory"]
    images = b.manifest["images"]
    click.echo(f"firmware: {b.elf}" + "".join(f", {b.out / im['elf']}" for im in images[1:]))
    click.echo(f"manifest: {b.manifest_path}")
    click.echo(f"{b.manifest['cores']} core(s), {len(b.manifest['tasks'])} tasks; arena {mem['arena_bytes']:,} B, "
               f"runtime state {mem['runtime_bytes']:,} B")
    for k, im in enumerate(images):
        where = f"image {k} (core {', '.join(map(str, im['cores']))}): " if len(images) > 1 else ""
        click.echo(f"  {where}flash {im['elf_flash_bytes']:,} of {im['board_flash_bytes']:,} B, "
                   f"static RAM {im['elf_ram_bytes']:,} of {im['board_ram_bytes']:,} B")
