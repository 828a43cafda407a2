"""Stateful .tflite test models: resource variables initialised by a CALL_ONCE subgraph,
as streaming (always-on audio) models are converted. Built at test time with
tflite_test_models.Builder over tflite-micro's model_editor; never commit the outputs.

    python models/streaming_models.py OUT_DIR   # writes both models into OUT_DIR

- `streaming_model()`: a ring buffer of the past `history` frames (a variable, initialised
  to a non-zero pattern by CALL_ONCE) is concatenated with the new frame; the oldest frame
  is dropped and the rest assigned back for the next invocation; the window goes through
  CONV_2D -> DEPTHWISE_CONV_2D -> FULLY_CONNECTED -> QUANTIZE int8 -> uint8 (the output).
  The same frame twice gives different outputs, because the window differs.
- `accumulator_model()`: three variables: int8 `acc` (initialised by CALL_ONCE), int8
  `count` (never initialised: TFLM fills it with its zero point) and float32 `sum` (never
  initialised: zero); each invocation adds the input to each and outputs the three sums.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tflite_test_models import RELU, VALID, Builder  # noqa: E402


def _q8(b: Builder, shape, q, dtype="int8"):
    return b.act(shape, dtype, q)


def _var(b: Builder, name: str, sg=None):
    """VAR_HANDLE of variable `name` in subgraph `sg` (the main one by default)."""
    h = b.act([], "resource")
    return b.op("VAR_HANDLE", [], [h], "VarHandleOptions", sg=sg, container="", sharedName=name)


def _init_const(b: Builder, array: np.ndarray, q):
    t = b.me.Tensor(shape=array.shape, dtype=b.s.TensorType.INT8, data=array.astype(np.int8),
                    quantization=b.me.Quantization(scales=float(q[0]), zero_points=int(q[1])))
    return t


def _call_once(b: Builder, values: dict[str, tuple[np.ndarray, tuple]]) -> None:
    """CALL_ONCE of a new subgraph assigning each variable its constant value."""
    init = b.subgraph()
    for name, (array, q) in values.items():
        h = _var(b, name, sg=init)
        b.op("ASSIGN_VARIABLE", [h, _init_const(b, array, q)], [], sg=init)
    b.op("CALL_ONCE", [], [], "CallOnceOptions", initSubgraphIndex=b.model.subgraphs.index(init))


def streaming_model(seed: int = 0, freq: int = 8, chans: int = 4, history: int = 2) -> bytes:
    rng = np.random.default_rng(seed)
    b = Builder()
    qa = (0.05, -3)  # frame, ring buffer and window share one quantization (copies)
    frame = _q8(b, [1, 1, freq, chans], qa)
    past0 = rng.integers(-60, 60, (1, history, freq, chans)).astype(np.int8)
    _call_once(b, {"ring": (past0, qa)})
    ring = _var(b, "ring")
    past = b.op("READ_VARIABLE", [ring], [_q8(b, [1, history, freq, chans], qa)])
    window = b.op("CONCATENATION", [past, frame], [_q8(b, [1, history + 1, freq, chans], qa)],
                  "ConcatenationOptions", axis=1, fusedActivationFunction=0)
    shifted = b.op("STRIDED_SLICE", [window, b.i32([0, 1, 0, 0]), b.i32([1, history + 1, freq, chans]),
                                     b.i32([1, 1, 1, 1])], [_q8(b, [1, history, freq, chans], qa)],
                   "StridedSliceOptions", beginMask=0, endMask=0, ellipsisMask=0, newAxisMask=0,
                   shrinkAxisMask=0, offset=False)
    b.op("ASSIGN_VARIABLE", [ring, shifted], [])
    out_c = 6
    w1 = rng.integers(-90, 90, (out_c, history + 1, 3, chans)).astype(np.int8)
    ws1 = rng.uniform(0.004, 0.01, out_c).astype(np.float32)
    bias1 = rng.integers(-300, 300, out_c).astype(np.int32)
    conv = b.op("CONV_2D", [window, b.const(w1, ws1, 0), b.const(bias1, ws1 * qa[0], 0)],
                [_q8(b, [1, 1, freq - 2, out_c], (0.04, -10))], "Conv2DOptions", padding=VALID,
                strideH=1, strideW=1, dilationHFactor=1, dilationWFactor=1, fusedActivationFunction=RELU)
    w2 = rng.integers(-100, 100, (1, 1, 3, out_c)).astype(np.int8)
    ws2 = rng.uniform(0.005, 0.012, out_c).astype(np.float32)
    dw = b.op("DEPTHWISE_CONV_2D", [conv, b.const(w2, ws2, 3),
                                    b.const(rng.integers(-200, 200, out_c).astype(np.int32), ws2 * 0.04, 0)],
              [_q8(b, [1, 1, freq - 4, out_c], (0.03, 4))], "DepthwiseConv2DOptions", padding=VALID,
              strideH=1, strideW=1, depthMultiplier=1, dilationHFactor=1, dilationWFactor=1,
              fusedActivationFunction=0)
    flat = b.op("RESHAPE", [dw, b.i32([1, (freq - 4) * out_c])], [_q8(b, [1, (freq - 4) * out_c], (0.03, 4))],
                "ReshapeOptions", newShape=[1, (freq - 4) * out_c])
    units = 5
    w3 = rng.integers(-100, 100, (units, (freq - 4) * out_c)).astype(np.int8)
    fc = b.op("FULLY_CONNECTED", [flat, b.const(w3, 0.006), b.const(rng.integers(-500, 500, units).astype(np.int32),
                                                                     0.006 * 0.03)],
              [_q8(b, [1, units], (0.08, 2))], "FullyConnectedOptions", fusedActivationFunction=0,
              keepNumDims=False)
    out = b.op("QUANTIZE", [fc], [_q8(b, [1, units], (0.09, 128), "uint8")])
    return b.build([frame], [out])


def accumulator_model(n: int = 4) -> bytes:
    b = Builder()
    q = (0.1, 3)
    x = _q8(b, [1, n], q)
    _call_once(b, {"acc": (np.arange(n, dtype=np.int8) * 7 - 10, q)})
    outs = []
    for name, qv in (("acc", q), ("count", (0.1, -5))):
        h = _var(b, name)
        prev = b.op("READ_VARIABLE", [h], [_q8(b, [1, n], qv)])
        total = b.op("ADD", [prev, x], [_q8(b, [1, n], qv)], "AddOptions", fusedActivationFunction=0)
        b.op("ASSIGN_VARIABLE", [h, total], [])
        outs.append(total)
    # A float32 variable without init (TFLM: zero bytes): the running sum of the real inputs.
    h = _var(b, "sum")
    prev = b.op("READ_VARIABLE", [h], [b.act([1, n], "float32")])
    real = b.op("DEQUANTIZE", [x], [b.act([1, n], "float32")])
    total = b.op("ADD", [prev, real], [b.act([1, n], "float32")], "AddOptions", fusedActivationFunction=0)
    b.op("ASSIGN_VARIABLE", [h, total], [])
    return b.build([x], outs + [total])


def write_all(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in (("streaming.tflite", streaming_model()), ("accumulator.tflite", accumulator_model())):
        (out_dir / name).write_bytes(data)
        paths.append(out_dir / name)
    return paths


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(p)
