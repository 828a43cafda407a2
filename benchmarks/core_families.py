#!/usr/bin/env python3
"""Single-core instructions per inference of the five MLPerf Tiny int8 models on the three
core families arielml generates kernels for, against TFLM on the same family and against
arielml before the packed kernels (commit e54cd99), plus where the instructions go by op
kind.

Usage: .venv/bin/python benchmarks/core_families.py [--family m33|m0plus|rv32 ...] [--no-ops]

- m33: qemu-an521, Cortex-M33 with the DSP extension (kernel family "dsp"); TFLM +
  CMSIS-NN on the same core.
- m0plus: tests/boards/qemu-an521-m0plus.toml, the same machine with thumbv6m code
  (family "v6m"): QEMU's M33 executes the ARMv6-M instructions one for one, so the count is
  what an M0+ (RP2040) executes; TFLM + CMSIS-NN built for cortex-m0plus.
- rv32: qemu-riscv32 (RV32IMAC, family "rv32"); TFLM reference kernels (TFLM has no
  optimized RISC-V kernels for this core).
TFLM's counts: ../shared/BASELINES.md. Ours: `arielml profile` (QEMU -icount shift=0, one
inference, 50-instruction resolution of the AN521 counter).
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict

from _common import INT8_MODELS, ROOT, model_path, table

from arielml.boards import get_board
from arielml.ir.kinds import op_macs
from arielml.pipeline import compile_model
from arielml.target.profile import profile_model

FAMILIES = {
    "m33": ("qemu-an521", "TFLM+CMSIS-NN (M33)"),
    "m0plus": (str(ROOT / "tests" / "boards" / "qemu-an521-m0plus.toml"), "TFLM+CMSIS-NN (M0+)"),
    "rv32": ("qemu-riscv32", "TFLM ref (RV32IMC)"),
}
# ../shared/BASELINES.md
TFLM = {
    "m33": {"kws_ref_model": 7678689, "vww_96_int8": 24046766, "pretrainedResnet_quant": 29964827,
            "ad01_int8": 583467, "str_ww_ref_model": 2220997},
    "m0plus": {"kws_ref_model": 28992076, "vww_96_int8": 86903424, "pretrainedResnet_quant": 97564885,
               "ad01_int8": 1763343, "str_ww_ref_model": 9546025},
    "rv32": {"kws_ref_model": 45751854, "vww_96_int8": 114571110, "pretrainedResnet_quant": 127243060,
             "ad01_int8": 2514070, "str_ww_ref_model": 9852983},
}
# arielml at e54cd99 (before the packed kernels), measured the same way on 2026-12-02.
BEFORE = {
    "m33": {"kws_ref_model": 14961350, "vww_96_int8": 39771500, "pretrainedResnet_quant": 36923850,
            "ad01_int8": 695700, "str_ww_ref_model": 3591300},
    "m0plus": {"kws_ref_model": 29234950, "vww_96_int8": 83814800, "pretrainedResnet_quant": 88780050,
               "ad01_int8": 3032750, "str_ww_ref_model": 7961100},
    "rv32": {"kws_ref_model": 19899100, "vww_96_int8": 57480500, "pretrainedResnet_quant": 71581200,
             "ad01_int8": 1443000, "str_ww_ref_model": 5941800},
}


def geomean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def by_op_kind(name: str, board, prof, acc: dict) -> None:
    """Adds this model's per-task counts to acc[kind] = [instructions, MACs]."""
    compiled = compile_model(model_path(name), board=board, cores=1)
    g = compiled.graph
    for t, instr in zip(compiled.tasks, prof.task_instructions):
        op = g.ops[t.tile.op]
        acc[op.kind.value][0] += instr
    for op in g.ops:
        acc[op.kind.value][1] += op_macs(g, op)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--family", action="append", choices=sorted(FAMILIES), help="default: all three")
    ap.add_argument("--no-ops", action="store_true", help="skip the per-op-kind breakdown")
    args = ap.parse_args()
    for fam in args.family or list(FAMILIES):
        spec, tflm_name = FAMILIES[fam]
        board = get_board(spec)
        rows, vs_tflm, vs_before = [], [], []
        kinds: dict = defaultdict(lambda: [0.0, 0])
        for name in INT8_MODELS:
            prof = profile_model(model_path(name), board, 1)
            ours = prof.total_instructions
            t, b = TFLM[fam][name], BEFORE[fam][name]
            vs_tflm.append(ours / t)
            vs_before.append(b / ours)
            rows.append([name, f"{ours:,.0f}", f"{t:,}", f"{ours / t:.2f}x", f"{b:,}", f"{b / ours:.2f}x"])
            if not args.no_ops:
                by_op_kind(name, board, prof, kinds)
        rows.append(["geometric mean", "", "", f"{geomean(vs_tflm):.2f}x", "", f"{geomean(vs_before):.2f}x"])
        print(f"{fam}: one core of {board.name}, instructions per inference (QEMU -icount shift=0)")
        print(table(rows, ["model", "arielml", tflm_name, "ratio", "arielml e54cd99", "fewer"]))
        if not args.no_ops:
            total = sum(v[0] for v in kinds.values())
            op_rows = [[k, f"{v[0]:,.0f}", f"{100 * v[0] / total:.1f}%", f"{v[1]:,}",
                        f"{v[0] / v[1]:.2f}" if v[1] else "-"]
                       for k, v in sorted(kinds.items(), key=lambda kv: -kv[1][0])]
            print(f"\n{fam}: by op kind, the five models together")
            print(table(op_rows, ["op kind", "instructions", "share", "MACs", "instr/MAC"]))
        print()


if __name__ == "__main__":
    main()
