"""Models for the import tests: the MLPerf Tiny files and small graphs built in code.

TFLite graphs are written with tflite-micro's model_editor (no TensorFlow needed); ONNX
graphs with onnx.helper, quantized by onnxruntime in QDQ format.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

# The project's model generators (models/) hold the one model_editor builder.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))
from tflite_test_models import Builder  # noqa: E402

MODELS_DIR = Path(__file__).resolve().parents[2].parent / "shared/models/mlperf-tiny"
INT8_MODELS = ["ad01_int8.tflite", "kws_ref_model.tflite", "pretrainedResnet_quant.tflite",
               "str_ww_ref_model.tflite", "vww_96_int8.tflite"]
HYBRID_MODEL = "kws_ref_model_float32.tflite"


def model_path(name: str) -> Path:
    return MODELS_DIR / name


class TFLiteBuilder(Builder):
    """models/tflite_test_models.Builder with the import tests' signatures: quantization
    as (scale, zero point) arguments, and tensor names."""

    def _q(self, scale, zp, axis=None):
        if scale is None:
            return None
        return self.me.Quantization(scales=scale, zero_points=zp, axis=axis)

    def act(self, shape, dtype="int8", scale=0.05, zp=0, name=None):
        tt = self.s.TensorType.INT8 if dtype == "int8" else (
            self.s.TensorType.INT32 if dtype == "int32" else self.s.TensorType.FLOAT32)
        q = self._q(scale, zp) if dtype == "int8" else None
        return self.me.Tensor(shape=tuple(shape), dtype=tt, quantization=q, name=name)

    def const(self, array, scale=None, zp=0, axis=None, name=None):
        array = np.asarray(array)
        types = self.s.TensorType
        tt = {np.dtype(np.int8): types.INT8, np.dtype(np.int32): types.INT32,
              np.dtype(np.float32): types.FLOAT32}[array.dtype]
        return self.me.Tensor(shape=array.shape, dtype=tt, data=array,
                              quantization=self._q(scale, zp, axis), name=name)


def tflite_twin_of_onnx_model() -> bytes:
    """The TFLite int8 equivalent of onnx_float_model(): same ops, shapes and layouts."""
    rng = np.random.default_rng(1)
    b = TFLiteBuilder()

    def w(shape, channels):
        # Per-channel: axis 0 of OHWI conv weights, axis 3 of 1HWC depthwise weights.
        data = rng.integers(-127, 128, shape).astype(np.int8)
        axis = 3 if shape[0] == 1 else 0
        return b.const(data, scale=[0.01] * channels, zp=[0] * channels, axis=axis)

    def bias(n):
        data = rng.integers(-100, 100, n).astype(np.int32)
        return b.const(data, scale=[0.0005] * n, zp=[0] * n, axis=0)

    x = b.act([1, 8, 8, 3], "float32")
    xq = b.op("QUANTIZE", [x], [b.act([1, 8, 8, 3], scale=0.02, zp=0)])
    c1 = b.op("CONV_2D", [xq, w((8, 3, 3, 3), 8), bias(8)], [b.act([1, 4, 4, 8], zp=-128)],
              "Conv2DOptions", padding=0, strideH=2, strideW=2, fusedActivationFunction=1,
              dilationHFactor=1, dilationWFactor=1)
    c2 = b.op("DEPTHWISE_CONV_2D", [c1, w((1, 3, 3, 8), 8), bias(8)],
              [b.act([1, 4, 4, 8], zp=-128)],
              "DepthwiseConv2DOptions", padding=0, strideH=1, strideW=1, depthMultiplier=1,
              fusedActivationFunction=1, dilationHFactor=1, dilationWFactor=1)
    c3 = b.op("CONV_2D", [c2, w((8, 1, 1, 8), 8), bias(8)], [b.act([1, 4, 4, 8])],
              "Conv2DOptions", padding=1, strideH=1, strideW=1, dilationHFactor=1,
              dilationWFactor=1)
    a = b.op("ADD", [c3, c2], [b.act([1, 4, 4, 8])], "AddOptions")
    p = b.op("AVERAGE_POOL_2D", [a], [b.act([1, 1, 1, 8])], "Pool2DOptions", padding=1,
             strideH=4, strideW=4, filterHeight=4, filterWidth=4)
    f = b.op("RESHAPE", [p, b.const(np.array([1, -1], np.int32))], [b.act([1, 8])])
    fw = b.const(rng.integers(-127, 128, (4, 8)).astype(np.int8), scale=0.01, zp=0)
    fc = b.op("FULLY_CONNECTED", [f, fw, bias(4)], [b.act([1, 4], scale=0.1)],
              "FullyConnectedOptions")
    sm = b.op("SOFTMAX", [fc], [b.act([1, 4], scale=1 / 256, zp=-128)], "SoftmaxOptions", beta=1.0)
    y = b.op("DEQUANTIZE", [sm], [b.act([1, 4], "float32")])
    return b.build([x], [y])


def onnx_float_model():
    """conv(s2)+relu -> depthwise+relu -> 1x1 conv -> residual add -> avgpool -> flatten ->
    gemm -> softmax, NCHW, opset 13."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)

    def init(name, shape):
        return numpy_helper.from_array(rng.normal(0, 0.3, shape).astype(np.float32), name)

    inits = [init("w1", (8, 3, 3, 3)), init("b1", (8,)), init("wd", (8, 1, 3, 3)),
             init("bd", (8,)), init("w2", (8, 8, 1, 1)), init("b2", (8,)), init("wf", (4, 8)),
             init("bf", (4,)), numpy_helper.from_array(np.array([1, -1], np.int64), "shape")]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "wd", "bd"], ["c2"], pads=[1, 1, 1, 1], group=8),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Conv", ["r2", "w2", "b2"], ["c3"]),
        helper.make_node("Add", ["c3", "r2"], ["a"]),
        helper.make_node("AveragePool", ["a"], ["p"], kernel_shape=[4, 4], strides=[4, 4]),
        helper.make_node("Reshape", ["p", "shape"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["g"], transB=1),
        helper.make_node("Softmax", ["g"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "twin", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def quantize_qdq(float_path: Path, out_path: Path, input_shape=(1, 3, 8, 8),
                 per_channel: bool = True) -> None:
    import logging

    from onnxruntime.quantization import (
        CalibrationDataReader, QuantFormat, QuantType, quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.data = iter([{"x": np.random.default_rng(i).normal(size=input_shape)
                               .astype(np.float32)} for i in range(8)])

        def get_next(self):
            return next(self.data, None)

    logging.getLogger().setLevel(logging.ERROR)  # ORT's "consider pre-processing" noise
    quantize_static(str(float_path), str(out_path), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    per_channel=per_channel)


def tflite_all_ops_float() -> bytes:
    """A float graph touching every supported data-movement and activation op, plus the
    Keras-style SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE chain the passes must fold."""
    b = TFLiteBuilder()
    f = lambda shape: b.act(shape, "float32")  # noqa: E731
    i32 = lambda a: b.const(np.array(a, np.int32))  # noqa: E731
    x = f([1, 8, 8, 4])
    mp = b.op("MAX_POOL_2D", [x], [f([1, 4, 4, 4])], "Pool2DOptions", padding=1, strideH=2,
              strideW=2, filterHeight=2, filterWidth=2)
    r = b.op("RELU", [mp], [f([1, 4, 4, 4])])
    r6 = b.op("RELU6", [r], [f([1, 4, 4, 4])])
    sub = b.op("SUB", [r, r6], [f([1, 4, 4, 4])], "SubOptions")
    mul = b.op("MUL", [sub, b.const(np.ones(4, np.float32))], [f([1, 4, 4, 4])], "MulOptions")
    cat = b.op("CONCATENATION", [r, mul], [f([1, 4, 4, 8])], "ConcatenationOptions", axis=-1)
    pad = b.op("PAD", [cat, i32([[0, 0], [1, 1], [1, 1], [0, 0]])], [f([1, 6, 6, 8])])
    mean = b.op("MEAN", [pad, i32([1, 2])], [f([1, 1, 1, 8])], "ReducerOptions", keepDims=True)
    h = b.op("LOGISTIC", [mean], [f([1, 1, 1, 8])])
    h = b.op("TANH", [h], [f([1, 1, 1, 8])])
    h = b.op("LEAKY_RELU", [h], [f([1, 1, 1, 8])], "LeakyReluOptions", alpha=0.1)
    h = b.op("HARD_SWISH", [h], [f([1, 1, 1, 8])])
    sq = b.op("SQUEEZE", [h], [f([1, 8])], "SqueezeOptions", squeezeDims=[1, 2])
    ex = b.op("EXPAND_DIMS", [sq, i32([1])], [f([1, 1, 8])])
    tr = b.op("TRANSPOSE", [ex, i32([0, 2, 1])], [f([1, 8, 1])])
    o1, o2 = b.op("SPLIT", [i32([1]), tr], [f([1, 4, 1]), f([1, 4, 1])], "SplitOptions",
                  numSplits=2)
    p1, p2 = b.op("SPLIT_V", [o1, i32([1, -1]), i32([1])], [f([1, 1, 1]), f([1, 3, 1])],
                  "SplitVOptions", numSplits=2)
    ss = b.op("STRIDED_SLICE", [p2, i32([0, 1, 0]), i32([1, 0, 1]), i32([1, 1, 1])],
              [f([1, 2, 1])], "StridedSliceOptions", endMask=2)
    pk = b.op("PACK", [o2, o2], [f([2, 1, 4, 1])], "PackOptions", valuesCount=2, axis=0)
    # Keras flatten: the reshape target is computed from SHAPE at run time.
    shp = b.op("SHAPE", [o2], [b.act([3], "int32")], "ShapeOptions")
    n = b.op("STRIDED_SLICE", [shp, i32([0]), i32([1]), i32([1])], [b.act([], "int32")],
             "StridedSliceOptions", shrinkAxisMask=1)
    tgt = b.op("PACK", [n, b.const(np.array(4, np.int32))], [b.act([2], "int32")],
               "PackOptions", valuesCount=2, axis=0)
    flat = b.op("RESHAPE", [o2, tgt], [f([1, 4])])
    q = b.op("QUANTIZE", [flat], [b.act([1, 4], scale=0.02, zp=3)])
    dq = b.op("DEQUANTIZE", [q], [f([1, 4])])
    return b.build([x], [ss, pk, dq, p1])


def residual_model(path):
    """Two residual blocks on a 13-row map (bands of 2 leave remainders): ADD with the
    residual as operand 2 after a conv, SUB with it as operand 1 after a depthwise conv."""
    rng = np.random.default_rng(7)
    b = Builder()
    shape, sc = [1, 13, 5, 8], 0.05

    def act(zp):
        return b.act(shape, "int8", (sc, zp))

    def weights(*s):
        scales = rng.uniform(0.005, 0.02, s[0] if s[0] > 1 else s[-1])
        axis = 0 if s[0] > 1 else 3
        return b.const(rng.integers(-127, 128, s).astype(np.int8), scales, axis), scales

    def conv(x, zp, depthwise=False, dil=1):
        w, scales = weights(1, 3, 3, 8) if depthwise else weights(8, 3, 3, 8)
        bias = b.const(rng.integers(-2000, 2000, 8).astype(np.int32), scales * sc, 0)
        opts = dict(padding=0, strideH=1, strideW=1, dilationHFactor=dil, dilationWFactor=1)
        if depthwise:
            return b.op("DEPTHWISE_CONV_2D", [x, w, bias], [act(zp)], "DepthwiseConv2DOptions",
                        depthMultiplier=1, **opts)
        return b.op("CONV_2D", [x, w, bias], [act(zp)], "Conv2DOptions", **opts)

    x0 = b.act(shape, "int8", (sc, 3))
    x = conv(x0, -4)
    y1 = b.op("ADD", [conv(conv(x, 2), 5, dil=2), x], [act(-1)], "AddOptions")
    y2 = b.op("SUB", [y1, conv(conv(y1, 0), -6, depthwise=True)], [act(1)], "SubOptions")
    path.write_bytes(b.build([x0], [y2]))
    return path
