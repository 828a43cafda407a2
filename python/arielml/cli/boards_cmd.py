"""`arielml boards`: list the known boards."""

from __future__ import annotations

import click

from arielml.boards import load_boards


@click.command()
def boards() -> None:
    """List the boards arielml knows (one TOML file each under boards/)."""
    for b in load_boards():
        cores = len(b.cores)
        kinds = ", ".join(dict.fromkeys(c.arch for c in b.cores))
        ram = b.memory("ram").size // 1024
        flash = b.memory("flash").size // 1024
        click.echo(
            f"{b.name:<16} {cores} core{'s' if cores > 1 else ''} ({kinds}), "
            f"{ram} KiB RAM, {flash} KiB flash  {b.description}"
        )
