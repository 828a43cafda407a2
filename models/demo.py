"""The bundled demo model: a small int8 image classifier with random weights, built at run
time with tflite-micro's model_editor (no TensorFlow, no download).

    python models/demo.py OUT.tflite

conv 3x3/2 (16, ReLU) -> depthwise 3x3 (ReLU6) -> conv 1x1 (32) -> ADD -> average pool ->
fully connected (10) -> softmax; per-channel weight scales as the TFLite converter emits.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tflite_test_models import RELU, RELU6, SAME, VALID, Builder  # noqa: E402


def demo_model(seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    b = Builder()

    def weights(*shape):
        w = rng.integers(-127, 128, size=shape, dtype=np.int8)
        return b.const(w, scales=rng.uniform(0.002, 0.01, shape[0] if shape[0] > 1 else shape[-1]),
                       axis=0 if shape[0] > 1 else 3)

    def bias(n, scale=1e-4):
        return b.const(rng.integers(-2000, 2000, size=n, dtype=np.int32), scales=np.full(n, scale), axis=0)

    conv = dict(dilationHFactor=1, dilationWFactor=1)
    x = b.act([1, 32, 32, 3], "int8", (0.02, -1))
    c1 = b.op("CONV_2D", [x, weights(16, 3, 3, 3), bias(16)], [b.act([1, 16, 16, 16], "int8", (0.05, -128))],
              "Conv2DOptions", padding=SAME, strideH=2, strideW=2, fusedActivationFunction=RELU, **conv)
    d1 = b.op("DEPTHWISE_CONV_2D", [c1, weights(1, 3, 3, 16), bias(16)],
              [b.act([1, 16, 16, 16], "int8", (0.04, -128))], "DepthwiseConv2DOptions", padding=SAME,
              strideH=1, strideW=1, depthMultiplier=1, fusedActivationFunction=RELU6, **conv)
    c2 = b.op("CONV_2D", [d1, weights(16, 1, 1, 16), bias(16)], [b.act([1, 16, 16, 16], "int8", (0.06, 3))],
              "Conv2DOptions", padding=VALID, strideH=1, strideW=1, **conv)
    a = b.op("ADD", [c2, c1], [b.act([1, 16, 16, 16], "int8", (0.08, -20))], "AddOptions")
    p = b.op("AVERAGE_POOL_2D", [a], [b.act([1, 1, 1, 16], "int8", (0.08, -20))], "Pool2DOptions",
             padding=VALID, strideH=16, strideW=16, filterHeight=16, filterWidth=16)
    r = b.op("RESHAPE", [p, b.i32([1, 16])], [b.act([1, 16], "int8", (0.08, -20))])
    fc = b.op("FULLY_CONNECTED", [r, weights(10, 16), bias(10)], [b.act([1, 10], "int8", (0.1, 0))],
              "FullyConnectedOptions")
    sm = b.op("SOFTMAX", [fc], [b.act([1, 10], "int8", (1 / 256, -128))], "SoftmaxOptions", beta=1.0)
    return b.build([x], [sm])


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python models/demo.py OUT.tflite")
    out = Path(sys.argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(demo_model())
    print(f"wrote {out}")
