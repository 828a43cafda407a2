#!/usr/bin/env python3
"""Build times (cold and warm) for kws on qemu-an521, and single-core instruction counts
of every model against TFLM's (reference kernels and CMSIS-NN, ../shared/BASELINES.md).

Usage: .venv/bin/python benchmarks/build_and_count.py [--board qemu-an521]
cold: an empty cargo target directory (core, dependencies and the model crate compile);
warm: the shared target directory already holds core and the dependencies (the normal
case after the first build), a new model crate compiles and links.
Counts: QEMU -icount shift=0, one inference, board counter resolution (50 on an521).
The last row is the geometric mean of the ratios. benchmarks/core_families.py is the
sibling for the Cortex-M0+ and RV32 families, with a per-op-kind breakdown.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path

from _common import INT8_MODELS, TFLM_CMSIS_INSTR, TFLM_REF_INSTR, model_path, table

from arielml.boards import get_board
from arielml.build import build_model
from arielml.target.profile import profile_model


def timed_build(board, out: Path) -> float:
    t0 = time.monotonic()
    build_model(model_path("kws_ref_model"), board, cores=len(board.cores), out=out)
    return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--board", default="qemu-an521")
    args = ap.parse_args()
    board = get_board(args.board)
    with tempfile.TemporaryDirectory() as tmp:
        saved = os.environ.get("CARGO_TARGET_DIR")
        os.environ["CARGO_TARGET_DIR"] = str(Path(tmp) / "target")
        try:
            cold = timed_build(board, Path(tmp) / "a")
            warm = timed_build(board, Path(tmp) / "b")
        finally:
            if saved is None:
                os.environ.pop("CARGO_TARGET_DIR")
            else:
                os.environ["CARGO_TARGET_DIR"] = saved
    print(f"kws_ref_model on {board.name}: cold build {cold:.1f} s, warm build {warm:.1f} s\n")
    rows, ref_ratios, cmsis_ratios = [], [], []
    for name in INT8_MODELS:
        ours = profile_model(model_path(name), board, 1).total_instructions
        ref_ratios.append(ours / TFLM_REF_INSTR[name])
        cmsis_ratios.append(ours / TFLM_CMSIS_INSTR[name])
        rows.append([name, f"{ours:,.0f}", f"{TFLM_REF_INSTR[name]:,}", f"{ours / TFLM_REF_INSTR[name]:.2f}x",
                     f"{TFLM_CMSIS_INSTR[name]:,}", f"{ours / TFLM_CMSIS_INSTR[name]:.2f}x"])
    geo = [math.exp(sum(map(math.log, r)) / len(r)) for r in (ref_ratios, cmsis_ratios)]
    rows.append(["geometric mean", "", "", f"{geo[0]:.2f}x", "", f"{geo[1]:.2f}x"])
    print(f"Instructions per inference, one core of {board.name} (QEMU -icount shift=0)")
    print(table(rows, ["model", "arielml", "TFLM ref", "ratio", "TFLM+CMSIS-NN", "ratio"]))


if __name__ == "__main__":
    main()
