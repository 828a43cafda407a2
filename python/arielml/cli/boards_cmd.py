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
        if b.multi_image:  # per image: its flash + RAM; the shared RAM once
            parts = [f"{b.cores[im.cores[0]].name} {b.named(im.flash).size // 1024}+{b.named(im.ram).size // 1024}"
                     for im in b.images]
            mem = (f"images (KiB flash+RAM) {', '.join(parts)}; shared "
                   f"{b.shared_memory().name} {b.shared_memory().size // 1024} KiB")
        else:
            mem = f"{b.memory('ram').size // 1024} KiB RAM, {b.memory('flash').size // 1024} KiB flash"
        click.echo(f"{b.name:<16} {cores} core{'s' if cores > 1 else ''} ({kinds}), {mem}  {b.description}")
