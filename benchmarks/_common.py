"""Shared bits of the benchmark scripts: where the models are, TFLM's published figures."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT.parent / "shared" / "models" / "mlperf-tiny"
INT8_MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8", "str_ww_ref_model"]

# TFLM on a QEMU Cortex-M33, from ../shared/BASELINES.md (measured there, cited here):
# arena_used_bytes (32-bit build), instructions per Invoke() with reference kernels and
# with CMSIS-NN.
TFLM_ARENA = {"kws_ref_model": 22772, "vww_96_int8": 100660, "pretrainedResnet_quant": 54340,
              "ad01_int8": 2260, "str_ww_ref_model": 15252}
TFLM_REF_INSTR = {"kws_ref_model": 42847478, "vww_96_int8": 99729942, "pretrainedResnet_quant": 107428721,
                  "ad01_int8": 1952385, "str_ww_ref_model": 8162480}
TFLM_CMSIS_INSTR = {"kws_ref_model": 7678689, "vww_96_int8": 24046766, "pretrainedResnet_quant": 29964827,
                    "ad01_int8": 583467, "str_ww_ref_model": 2220997}


def model_path(name: str) -> Path:
    p = MODELS / f"{name}.tflite"
    if not p.exists():
        sys.exit(f"error: {p} not found (the MLPerf Tiny models live in ../shared/models/mlperf-tiny)")
    return p


def table(rows: list[list], header: list[str]) -> str:
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
