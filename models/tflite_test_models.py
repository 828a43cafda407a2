"""Small .tflite models for the lowering and float32 tests, built at test time with
tflite-micro's model_editor (no TensorFlow needed). Never commit the generated files.

    python models/tflite_test_models.py OUT_DIR   # writes every model into OUT_DIR

- `float_convnet()`: float32 conv -> depthwise -> pools -> FC -> softmax with ADD, MUL and
  standalone/fused activations (RELU, RELU6, LOGISTIC, TANH, HARD_SWISH, LEAKY_RELU).
- `new_ops_model("int8" | "float32")`: every op lowered beyond conv/pool/FC/ADD/softmax:
  QUANTIZE (float -> int8 and int8 -> int8), DEQUANTIZE, LOGISTIC, TANH, LEAKY_RELU,
  HARD_SWISH, standalone RELU (requantizing) and RELU6, MEAN, PAD, CONCATENATION,
  TRANSPOSE, STRIDED_SLICE (negative stride, shrink mask), SPLIT, SPLIT_V, PACK.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


class Builder:
    """Tensors and operators over model_editor, with builtin options by name."""

    def __init__(self):
        from tflite_micro.tensorflow.lite.micro.compression import model_editor as me
        from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
        self.me, self.s = me, s
        self.sg = me.Subgraph()
        self.model = me.Model(subgraphs=[self.sg])

    def subgraph(self):
        """A further subgraph (what CALL_ONCE runs): pass it as `op(..., sg=)`; its index
        in the model is its position in `self.model.subgraphs`."""
        sg = self.me.Subgraph()
        self.model.subgraphs.append(sg)
        return sg

    def act(self, shape, dtype="float32", q=None):
        """An activation; `q` = (scale, zero_point) for int8/uint8; dtype "resource" is a
        variable's handle (VAR_HANDLE's output)."""
        tt = {"int8": self.s.TensorType.INT8, "float32": self.s.TensorType.FLOAT32,
              "int32": self.s.TensorType.INT32, "uint8": self.s.TensorType.UINT8,
              "resource": self.s.TensorType.RESOURCE}[dtype]
        quant = None if q is None else self.me.Quantization(scales=float(q[0]), zero_points=int(q[1]))
        return self.me.Tensor(shape=tuple(shape), dtype=tt, quantization=quant)

    def const(self, array, scales=None, axis=None):
        array = np.asarray(array)
        tt = {np.dtype(np.int8): self.s.TensorType.INT8, np.dtype(np.int32): self.s.TensorType.INT32,
              np.dtype(np.float32): self.s.TensorType.FLOAT32}[array.dtype]
        quant = None
        if scales is not None:
            scales = [float(v) for v in np.atleast_1d(scales)]
            quant = self.me.Quantization(scales=scales if len(scales) > 1 else scales[0],
                                         zero_points=[0] * len(scales) if len(scales) > 1 else 0,
                                         axis=axis)
        return self.me.Tensor(shape=array.shape, dtype=tt, data=array, quantization=quant)

    def i32(self, values):
        return self.const(np.array(values, np.int32))

    def op(self, code, inputs, outputs, options=None, sg=None, **fields):
        op = self.me.Operator(opcode=getattr(self.s.BuiltinOperator, code), inputs=list(inputs),
                              outputs=list(outputs))
        if options is not None:
            opts = getattr(self.s, options + "T")()
            for k, v in fields.items():
                setattr(opts, k, v)
            op._fb.builtinOptionsType = getattr(self.s.BuiltinOptions, options)
            op._fb.builtinOptions = opts
        (sg or self.sg).operators.append(op)
        return outputs[0] if len(outputs) == 1 else outputs if outputs else None

    def build(self, inputs, outputs) -> bytes:
        self.sg.inputs, self.sg.outputs = list(inputs), list(outputs)
        return bytes(self.model.build())


RELU, RELU6 = 1, 3  # ActivationFunctionType
SAME, VALID = 0, 1


def float_convnet(seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    b = Builder()
    f = b.act
    w = lambda *shape: b.const(rng.normal(0, 0.4, shape).astype(np.float32))  # noqa: E731
    conv = dict(dilationHFactor=1, dilationWFactor=1)
    x = f([1, 12, 12, 3])
    c1 = b.op("CONV_2D", [x, w(8, 3, 3, 3), w(8)], [f([1, 6, 6, 8])], "Conv2DOptions",
              padding=SAME, strideH=2, strideW=2, fusedActivationFunction=RELU, **conv)
    d1 = b.op("DEPTHWISE_CONV_2D", [c1, w(1, 3, 3, 8), w(8)], [f([1, 6, 6, 8])],
              "DepthwiseConv2DOptions", padding=SAME, strideH=1, strideW=1, depthMultiplier=1,
              fusedActivationFunction=RELU6, **conv)
    c2 = b.op("CONV_2D", [d1, w(8, 1, 1, 8)], [f([1, 6, 6, 8])], "Conv2DOptions",
              padding=VALID, strideH=1, strideW=1, **conv)
    a = b.op("ADD", [c2, c1], [f([1, 6, 6, 8])], "AddOptions")
    h = b.op("HARD_SWISH", [a], [f([1, 6, 6, 8])])
    m = b.op("MUL", [h, w(8)], [f([1, 6, 6, 8])], "MulOptions")
    mp = b.op("MAX_POOL_2D", [m], [f([1, 3, 3, 8])], "Pool2DOptions", padding=VALID, strideH=2,
              strideW=2, filterHeight=2, filterWidth=2)
    t = b.op("TANH", [mp], [f([1, 3, 3, 8])])
    lr = b.op("LEAKY_RELU", [t], [f([1, 3, 3, 8])], "LeakyReluOptions", alpha=0.2)
    ap = b.op("AVERAGE_POOL_2D", [lr], [f([1, 2, 2, 8])], "Pool2DOptions", padding=VALID,
              strideH=1, strideW=1, filterHeight=2, filterWidth=2)
    r = b.op("RESHAPE", [ap, b.i32([1, 32])], [f([1, 32])])
    fc = b.op("FULLY_CONNECTED", [r, w(10, 32), w(10)], [f([1, 10])], "FullyConnectedOptions")
    lg = b.op("LOGISTIC", [fc], [f([1, 10])])
    r6 = b.op("RELU6", [fc], [f([1, 10])])
    s = b.op("SUB", [r6, lg], [f([1, 10])], "SubOptions")
    sm = b.op("SOFTMAX", [s], [f([1, 10])], "SoftmaxOptions", beta=1.0)
    return b.build([x], [sm, lg])


def new_ops_model(dtype: str = "int8") -> bytes:
    """Every newly lowered op; int8 or float32 activations (the input is float32 and,
    for int8, quantized first)."""
    b = Builder()
    i8 = dtype == "int8"

    def t(shape, q=None):
        return b.act(shape, dtype, q if i8 else None)

    x = b.act([1, 6, 6, 4], "float32")
    q0 = b.op("QUANTIZE", [x], [t([1, 6, 6, 4], (0.05, 2))]) if i8 else \
        b.op("HARD_SWISH", [x], [t([1, 6, 6, 4])])
    relu = b.op("RELU", [q0], [t([1, 6, 6, 4], (0.03, -128))])
    relu6 = b.op("RELU6", [relu], [t([1, 6, 6, 4], (0.03, -128))])
    leaky = b.op("LEAKY_RELU", [q0], [t([1, 6, 6, 4], (0.04, -20))], "LeakyReluOptions", alpha=0.2)
    logistic = b.op("LOGISTIC", [q0], [t([1, 6, 6, 4], (1 / 256, -128))])
    tanh = b.op("TANH", [q0], [t([1, 6, 6, 4], (1 / 128, 0))])
    hswish = b.op("HARD_SWISH", [q0], [t([1, 6, 6, 4], (0.06, -10))])
    requant = b.op("QUANTIZE", [q0], [t([1, 6, 6, 4], (0.07, 5))]) if i8 else \
        b.op("RELU", [q0], [t([1, 6, 6, 4])])
    cat = b.op("CONCATENATION", [tanh, tanh], [t([1, 6, 6, 8], (1 / 128, 0))],
               "ConcatenationOptions", axis=-1)
    pad = b.op("PAD", [cat, b.i32([[0, 0], [1, 1], [2, 0], [0, 0]])], [t([1, 8, 8, 8], (1 / 128, 0))])
    mean = b.op("MEAN", [pad, b.i32([1, 2])], [t([1, 1, 1, 8], (0.004, -3))], "ReducerOptions",
                keepDims=True)
    mean2 = b.op("MEAN", [leaky, b.i32([2])], [t([1, 6, 4], (0.03, -10))], "ReducerOptions",
                 keepDims=False)
    tr = b.op("TRANSPOSE", [hswish, b.i32([0, 3, 1, 2])], [t([1, 4, 6, 6], (0.06, -10))])
    sl = b.op("STRIDED_SLICE", [tr, b.i32([0, 1, 0, 5]), b.i32([1, 4, 6, 0]), b.i32([1, 1, 2, -2])],
              [t([3, 3, 3], (0.06, -10))], "StridedSliceOptions", shrinkAxisMask=1)
    s1, s2 = b.op("SPLIT", [b.i32([3]), requant], [t([1, 6, 6, 2], (0.07, 5)), t([1, 6, 6, 2], (0.07, 5))],
                  "SplitOptions", numSplits=2)
    v1, v2 = b.op("SPLIT_V", [s2, b.i32([2, -1]), b.i32([1])],
                  [t([1, 2, 6, 2], (0.07, 5)), t([1, 4, 6, 2], (0.07, 5))], "SplitVOptions", numSplits=2)
    pk = b.op("PACK", [v1, v1], [t([2, 1, 2, 6, 2], (0.07, 5))], "PackOptions", valuesCount=2, axis=0)
    out = b.op("DEQUANTIZE", [logistic], [b.act([1, 6, 6, 4], "float32")]) if i8 else \
        b.op("TANH", [logistic], [t([1, 6, 6, 4])])
    return b.build([x], [relu6, mean, mean2, sl, s1, v2, pk, out])


MODELS = {
    "float_convnet.tflite": float_convnet,
    "new_ops_int8.tflite": lambda: new_ops_model("int8"),
    "new_ops_float32.tflite": lambda: new_ops_model("float32"),
}


def write_all(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in MODELS.items():
        (out_dir / name).write_bytes(make())
        paths.append(out_dir / name)
    return paths


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(p)
