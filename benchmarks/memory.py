#!/usr/bin/env python3
"""Peak RAM of our static plans (arena + runtime state) against TFLM's arena.

Usage: .venv/bin/python benchmarks/memory.py [--board qemu-an521]
No firmware is built: the figures are the plan's, the same the manifest reports.
"""

from __future__ import annotations

import argparse

from _common import INT8_MODELS, TFLM_ARENA, model_path, table

from arielml.boards import get_board
from arielml.build import runtime_bytes
from arielml.pipeline import compile_model
from arielml.plan.arena import plan_arena


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--board", default="qemu-riscv32")
    args = ap.parse_args()
    board = get_board(args.board)
    counts = [n for n in (1, 2, 4) if n <= len(board.cores)]
    rows = []
    for name in INT8_MODELS:
        row = [name, f"{TFLM_ARENA[name]:,}"]
        for n in counts:
            c = compile_model(model_path(name), board=board, cores=n)
            peak = plan_arena(c).size + runtime_bytes(c)
            row.append(f"{peak:,} ({peak / TFLM_ARENA[name]:.2f}x)")
        rows.append(row)
    print(f"Peak RAM in bytes (arena + runtime state) on {board.name}; ratio to TFLM's arena_used_bytes")
    print(table(rows, ["model", "TFLM arena"] + [f"ours, {n} core(s)" for n in counts]))


if __name__ == "__main__":
    main()
