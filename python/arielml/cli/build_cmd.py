"""`arielml build`: firmware for a model and a board, with a manifest."""

from __future__ import annotations

from pathlib import Path

import click

from arielml import api
from arielml.cli.options import board_option, cores_option, log, model_argument, schedule_option
from arielml.errors import UsageError


@click.command()
@model_argument()
@board_option()
@cores_option()
@click.option("--out", "-o", type=click.Path(file_okay=False, path_type=Path),
              help="Output directory (default: ~/.cache/arielml/builds/MODEL-BOARD-Nc).")
@schedule_option("static", "barrier")
@click.option("--emit", type=click.Choice(["firmware", "lib", "staticlib"]), default="firmware", show_default=True,
              help="firmware: an image serving arielml's host protocol (run, bench, profile); lib: a "
                   "no_std Rust library crate of the model for your own firmware; staticlib: the same "
                   "as a C static library (.a) with its header.")
@click.option("--name", default=None, help="With --emit lib/staticlib: the library's name (default: the model's file name).")
def build(model: Path, board_name: str, cores: int | None, out: Path | None, mode: str, emit: str,
          name: str | None) -> None:
    """Generate and compile the firmware (or with --emit lib the library) for MODEL.

    Writes firmware.elf (and firmware.bin where the board wants it), the generated crate
    and manifest.json (tasks per core, memory map, flash and RAM use read from the ELF).
    """
    if emit != "firmware":
        lib = api.build_library(model, api.get_board(board_name), out, cores=cores, mode=mode, name=name,
                                staticlib=emit == "staticlib", log=log)
        a, m = lib.manifest["artifacts"], lib.manifest["memory"]
        click.echo(f"library crate: {lib.crate} (in Cargo.toml: {lib.package} = {{ path = \"{lib.crate}\" }})"
                   if emit == "lib" else f"static library: {lib.out / a['staticlib']}, header: {lib.out / a['header']}")
        click.echo(f"manifest: {lib.manifest_path}")
        click.echo(f"{lib.manifest['cores']} core(s), {lib.manifest['tasks']} tasks; arena {m['arena_bytes']:,} B, "
                   + (f"variables {m['state_bytes']:,} B, " if m["state_bytes"] else "") + f"runtime state {m['runtime_bytes']:,} B, constants {m['constants_bytes']:,} B; with stacks and code about "
                   f"{m['ram_estimate']:,} of {m['board_ram_bytes']:,} B RAM, {m['flash_estimate']:,} of "
                   f"{m['board_flash_bytes']:,} B flash")
        return
    if name is not None:
        raise UsageError("--name goes with --emit lib")
    b = api.build(model, api.get_board(board_name), cores=cores, out=out, mode=mode, log=log)
    mem = b.manifest["memory"]
    images = b.manifest["images"]
    click.echo(f"firmware: {b.elf}" + "".join(f", {b.out / im['elf']}" for im in images[1:]))
    click.echo(f"manifest: {b.manifest_path}")
    click.echo(f"{b.manifest['cores']} core(s), {len(b.manifest['tasks'])} tasks; arena {mem['arena_bytes']:,} B, "
               + (f"variables {mem['state_bytes']:,} B, " if mem["state_bytes"] else "") + f"runtime state {mem['runtime_bytes']:,} B")
    for k, im in enumerate(images):
        where = f"image {k} (core {', '.join(map(str, im['cores']))}): " if len(images) > 1 else ""
        click.echo(f"  {where}flash {im['elf_flash_bytes']:,} of {im['board_flash_bytes']:,} B, "
                   f"static RAM {im['elf_ram_bytes']:,} of {im['board_ram_bytes']:,} B")
