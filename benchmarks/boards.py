#!/usr/bin/env python3
"""What each MLPerf Tiny int8 model takes on each real board: built firmware, per image.

Usage: .venv/bin/python benchmarks/boards.py [--board rp2040 ...] [--out DIR]
Builds every model for every board (all cores) and prints, from each build's manifest,
the flash and static RAM each image uses (read from the ELF) against what the board has,
and the share of the estimated work each core got. A model the board cannot hold is
listed with the build's refusal. Nothing runs: these boards are not emulated here.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import INT8_MODELS, model_path, table

from arielml.boards import get_board, load_boards
from arielml.build import build_model
from arielml.errors import UsageError


def _kib(n: int) -> str:
    return f"{n / 1024:,.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--board", action="append", help="board name (repeatable; default: every real board)")
    ap.add_argument("--out", type=Path, help="keep the builds here (default: a temporary directory)")
    args = ap.parse_args()
    boards = [get_board(b) for b in args.board] if args.board else [b for b in load_boards() if not b.emulated]
    with tempfile.TemporaryDirectory(prefix="arielml-boards-") as tmp:
        out = args.out or Path(tmp)
        for board in boards:
            rows = []
            for name in INT8_MODELS:
                try:
                    b = build_model(model_path(name), board, out=out / f"{name}-{board.name}")
                except UsageError as e:
                    rows.append([name, "-", "refused: " + str(e).split(": ", 1)[-1], "", ""])
                    continue
                m = b.manifest
                work = [sum(t["estimated_cycles"] for t in m["tasks"] if t["core"] == c) for c in range(m["cores"])]
                share = "/".join(f"{w / sum(work):.2f}" for w in work)
                for k, im in enumerate(m["images"]):
                    rows.append([name if k == 0 else "", ",".join(map(str, im["cores"])),
                                 f"{_kib(im['elf_flash_bytes'])} / {_kib(im['board_flash_bytes'])}",
                                 f"{_kib(im['elf_ram_bytes'])} / {_kib(im['board_ram_bytes'])}",
                                 share if k == 0 else ""])
            print(f"\n{board.name}: {board.description}")
            print(table(rows, ["model", "image cores", "flash KiB used / board", "static RAM KiB used / board",
                               "work share per core (estimated)"]))
    print("\nStatic RAM excludes the stacks (stack_bytes per core in the board file).")


if __name__ == "__main__":
    main()
