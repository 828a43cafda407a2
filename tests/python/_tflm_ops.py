"""Single-op int8/float32 .tflite models built with TFLM's model_editor, run by TFLM itself.

TFLM is the oracle of the kernel tests: every helper here returns what TFLM's Python
interpreter computes for one operator, with the quantization parameters of that model.
"""

from __future__ import annotations

import numpy as np
from tflite_micro.python.tflite_micro import runtime
from tflite_micro.tensorflow.lite.micro.compression import model_editor as me
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

ACT = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}
PADDING = {"SAME": fb.Padding.SAME, "VALID": fb.Padding.VALID}
DTYPE = {np.int8: fb.TensorType.INT8, np.int32: fb.TensorType.INT32, np.float32: fb.TensorType.FLOAT32}


def tensor(shape, dtype, scale=None, zp=0, data=None, axis=None) -> me.Tensor:
    q = None
    if scale is not None:
        scales = [float(s) for s in np.atleast_1d(scale)]
        zps = [int(zp)] * len(scales) if np.ndim(zp) == 0 else [int(z) for z in zp]
        q = me.Quantization(scales=scales if len(scales) > 1 else scales[0],
                            zero_points=zps if len(zps) > 1 else zps[0], axis=axis)
    arr = None if data is None else np.ascontiguousarray(data, dtype=dtype)
    return me.Tensor(shape=tuple(int(d) for d in shape), dtype=DTYPE[dtype], data=arr, quantization=q)


def run_op(opcode, options_type, options, inputs, outputs, feeds, arena=1 << 20):
    """Builds a one-op model; `feeds` are arrays for the non-constant inputs, in order."""
    op = me.Operator(opcode=opcode, inputs=inputs, outputs=outputs)
    if options is not None:
        op._fb.builtinOptionsType = options_type
        op._fb.builtinOptions = options
    graph_inputs = [t for t in inputs if t is not None and t.buffer is None]
    sg = me.Subgraph(operators=[op], inputs=graph_inputs, outputs=outputs)
    data = me.Model(subgraphs=[sg]).build()
    interp = runtime.Interpreter.from_bytes(bytes(data), arena_size=arena)
    for i, x in enumerate(feeds):
        interp.set_input(x, i)
    interp.invoke()
    return [interp.get_output(i) for i in range(len(outputs))]


def conv2d(x, xq, w, wscales, bias, yq, out_shape, stride, dilation, padding, act):
    """CONV_2D with per-channel filter scales (axis 0, OHWI). xq/yq are (scale, zp)."""
    t_in = tensor(x.shape, np.int8, *xq)
    t_w = tensor(w.shape, np.int8, wscales, [0] * len(wscales), data=w, axis=0)
    bscales = [np.float32(xq[0]) * np.float32(s) for s in wscales]
    t_b = tensor(bias.shape, np.int32, bscales, [0] * len(bscales), data=bias, axis=0)
    t_out = tensor(out_shape, np.int8, *yq)
    opts = fb.Conv2DOptionsT()
    opts.padding, opts.strideH, opts.strideW = PADDING[padding], stride[0], stride[1]
    opts.dilationHFactor, opts.dilationWFactor = dilation
    opts.fusedActivationFunction = ACT[act]
    return run_op(fb.BuiltinOperator.CONV_2D, fb.BuiltinOptions.Conv2DOptions, opts,
                  [t_in, t_w, t_b], [t_out], [x])[0]


def depthwise(x, xq, w, wscales, bias, yq, out_shape, stride, dilation, padding, act, mult):
    t_in = tensor(x.shape, np.int8, *xq)
    t_w = tensor(w.shape, np.int8, wscales, [0] * len(wscales), data=w, axis=3)
    bscales = [np.float32(xq[0]) * np.float32(s) for s in wscales]
    t_b = tensor(bias.shape, np.int32, bscales, [0] * len(bscales), data=bias, axis=0)
    t_out = tensor(out_shape, np.int8, *yq)
    opts = fb.DepthwiseConv2DOptionsT()
    opts.padding, opts.strideH, opts.strideW = PADDING[padding], stride[0], stride[1]
    opts.dilationHFactor, opts.dilationWFactor = dilation
    opts.fusedActivationFunction = ACT[act]
    opts.depthMultiplier = mult
    return run_op(fb.BuiltinOperator.DEPTHWISE_CONV_2D, fb.BuiltinOptions.DepthwiseConv2DOptions,
                  opts, [t_in, t_w, t_b], [t_out], [x])[0]


def fully_connected(x, xq, w, wscales, bias, yq, act):
    """x (batches, depth), w (units, depth); one scale = per-tensor, else per-channel."""
    t_in = tensor(x.shape, np.int8, *xq)
    per_channel = len(wscales) > 1
    t_w = tensor(w.shape, np.int8, wscales, [0] * len(wscales), data=w, axis=0 if per_channel else None)
    inputs = [t_in, t_w, None]
    if bias is not None:
        bscales = [np.float32(xq[0]) * np.float32(s) for s in wscales]
        inputs[2] = tensor(bias.shape, np.int32, bscales, [0] * len(bscales), data=bias,
                           axis=0 if per_channel else None)
    t_out = tensor((x.shape[0], w.shape[0]), np.int8, *yq)
    opts = fb.FullyConnectedOptionsT()
    opts.fusedActivationFunction = ACT[act]
    return run_op(fb.BuiltinOperator.FULLY_CONNECTED, fb.BuiltinOptions.FullyConnectedOptions,
                  opts, inputs, [t_out], [x])[0]


def pool(kind, x, q, filt, stride, padding, act, out_shape, dtype=np.int8):
    """AVERAGE/MAX_POOL_2D; TFLM requires the same quantization in and out."""
    scale = None if dtype == np.float32 else q
    t_in = tensor(x.shape, dtype, *(scale or (None,)))
    t_out = tensor(out_shape, dtype, *(scale or (None,)))
    opts = fb.Pool2DOptionsT()
    opts.padding, opts.strideH, opts.strideW = PADDING[padding], stride[0], stride[1]
    opts.filterHeight, opts.filterWidth = filt
    opts.fusedActivationFunction = ACT[act]
    code = fb.BuiltinOperator.AVERAGE_POOL_2D if kind == "avg" else fb.BuiltinOperator.MAX_POOL_2D
    return run_op(code, fb.BuiltinOptions.Pool2DOptions, opts, [t_in], [t_out], [x])[0]


def binary(kind, a, aq, b, bq, yq, out_shape, act):
    """ADD/SUB/MUL int8 with broadcasting between a and b."""
    t_a, t_b = tensor(a.shape, np.int8, *aq), tensor(b.shape, np.int8, *bq)
    t_out = tensor(out_shape, np.int8, *yq)
    table = {
        "add": (fb.BuiltinOperator.ADD, fb.BuiltinOptions.AddOptions, fb.AddOptionsT),
        "sub": (fb.BuiltinOperator.SUB, fb.BuiltinOptions.SubOptions, fb.SubOptionsT),
        "mul": (fb.BuiltinOperator.MUL, fb.BuiltinOptions.MulOptions, fb.MulOptionsT),
    }
    code, otype, ocls = table[kind]
    opts = ocls()
    opts.fusedActivationFunction = ACT[act]
    return run_op(code, otype, opts, [t_a, t_b], [t_out], [a, b])[0]


def softmax(x, xq, beta):
    """int8 SOFTMAX; TFLM requires output scale 1/256 and zero point -128."""
    t_in = tensor(x.shape, np.int8, *xq)
    t_out = tensor(x.shape, np.int8, 1.0 / 256, -128)
    opts = fb.SoftmaxOptionsT()
    opts.beta = float(beta)
    return run_op(fb.BuiltinOperator.SOFTMAX, fb.BuiltinOptions.SoftmaxOptions, opts,
                  [t_in], [t_out], [x])[0]


def unary(code, x, xq, yq, options_type=None, options=None, out_dtype=np.int8):
    """A one-input op such as LOGISTIC, TANH, QUANTIZE, DEQUANTIZE."""
    in_dtype = x.dtype.type
    t_in = tensor(x.shape, in_dtype, *(xq or (None,)))
    t_out = tensor(x.shape, out_dtype, *(yq or (None,)))
    return run_op(code, options_type, options, [t_in], [t_out], [x])[0]
