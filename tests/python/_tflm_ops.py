"""Small int8/float32 .tflite models (one op, or a few) built with TFLM's model_editor, run by TFLM itself.

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


def operator(opcode, options_type, options, inputs, outputs) -> me.Operator:
    op = me.Operator(opcode=opcode, inputs=inputs, outputs=outputs)
    if options is not None:
        op._fb.builtinOptionsType = options_type
        op._fb.builtinOptions = options
    return op


def run_op(opcode, options_type, options, inputs, outputs, feeds, arena=1 << 20):
    """Builds a one-op model; `feeds` are arrays for the non-constant inputs, in order."""
    graph_inputs = [t for t in inputs if t is not None and t.buffer is None]
    return run_graph([operator(opcode, options_type, options, inputs, outputs)], graph_inputs,
                     outputs, feeds, arena)


def run_graph(ops, graph_inputs, outputs, feeds, arena=1 << 20):
    """A model of several operators (intermediate tensors link them)."""
    sg = me.Subgraph(operators=ops, inputs=graph_inputs, outputs=outputs)
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


# ---- shape ops, MEAN, HARD_SWISH (int8 with xq = (scale, zp), or float32 with xq None) ----

def _t(x_or_shape, dtype, q):
    shape = getattr(x_or_shape, "shape", x_or_shape)
    return tensor(shape, dtype, *(q or (None,)))


def _i32(values):
    a = np.asarray(values, dtype=np.int32)
    return tensor(a.shape, np.int32, data=a)


def mean(x, xq, yq, axes, keep_dims, out_shape):
    opts = fb.ReducerOptionsT()
    opts.keepDims = bool(keep_dims)
    dt = x.dtype.type
    return run_op(fb.BuiltinOperator.MEAN, fb.BuiltinOptions.ReducerOptions, opts,
                  [_t(x, dt, xq), _i32(axes)], [_t(out_shape, dt, yq)], [x])[0]


def pad(x, q, paddings, out_shape):
    """PAD without constant_values: int8 pads with the zero point (same q in and out)."""
    dt = x.dtype.type
    return run_op(fb.BuiltinOperator.PAD, fb.BuiltinOptions.PadOptions, fb.PadOptionsT(),
                  [_t(x, dt, q), _i32(paddings)], [_t(out_shape, dt, q)], [x])[0]


def concatenation(xs, qs, yq, axis, out_shape):
    dt = xs[0].dtype.type
    opts = fb.ConcatenationOptionsT()
    opts.axis = axis
    return run_op(fb.BuiltinOperator.CONCATENATION, fb.BuiltinOptions.ConcatenationOptions, opts,
                  [_t(x, dt, q) for x, q in zip(xs, qs)], [_t(out_shape, dt, yq)], xs)[0]


def requantize_then_concat(xs, qs, yq, axis, out_shape):
    """int8 inputs of other scales brought to the output's by QUANTIZE ops, then
    CONCATENATION: what a TFLM model must do, since its int8 concat only copies."""
    ins, mids, ops = [], [], []
    for x, q in zip(xs, qs):
        t_in, t_mid = _t(x, np.int8, q), _t(x, np.int8, yq)
        ops.append(operator(fb.BuiltinOperator.QUANTIZE, None, None, [t_in], [t_mid]))
        ins.append(t_in)
        mids.append(t_mid)
    opts = fb.ConcatenationOptionsT()
    opts.axis = axis
    t_out = _t(out_shape, np.int8, yq)
    ops.append(operator(fb.BuiltinOperator.CONCATENATION, fb.BuiltinOptions.ConcatenationOptions,
                        opts, mids, [t_out]))
    return run_graph(ops, ins, [t_out], xs)[0]


def reshape(x, q, shape):
    dt = x.dtype.type
    opts = fb.ReshapeOptionsT()
    opts.newShape = [int(d) for d in shape]
    return run_op(fb.BuiltinOperator.RESHAPE, fb.BuiltinOptions.ReshapeOptions, opts,
                  [_t(x, dt, q), _i32(shape)], [_t(shape, dt, q)], [x])[0]


def transpose(x, q, perm):
    dt = x.dtype.type
    out = [x.shape[p] for p in perm]
    return run_op(fb.BuiltinOperator.TRANSPOSE, fb.BuiltinOptions.TransposeOptions,
                  fb.TransposeOptionsT(), [_t(x, dt, q), _i32(perm)], [_t(out, dt, q)], [x])[0]


def strided_slice(x, q, begin, end, strides, begin_mask, end_mask, shrink_mask, out_shape):
    dt = x.dtype.type
    opts = fb.StridedSliceOptionsT()
    opts.beginMask, opts.endMask, opts.shrinkAxisMask = begin_mask, end_mask, shrink_mask
    ins = [_t(x, dt, q), _i32(begin), _i32(end), _i32(strides)]
    return run_op(fb.BuiltinOperator.STRIDED_SLICE, fb.BuiltinOptions.StridedSliceOptions, opts,
                  ins, [_t(out_shape, dt, q)], [x])[0]


def split(x, q, axis, num):
    dt = x.dtype.type
    shape = list(x.shape)
    shape[axis] //= num
    opts = fb.SplitOptionsT()
    opts.numSplits = num
    outs = [_t(shape, dt, q) for _ in range(num)]
    return run_op(fb.BuiltinOperator.SPLIT, fb.BuiltinOptions.SplitOptions, opts,
                  [_i32([axis]), _t(x, dt, q)], outs, [x])


# ---- float32 versions of the conv-like and elementwise ops ----

def conv2d_f32(x, w, bias, out_shape, stride, dilation, padding, act, depth_multiplier=None):
    """CONV_2D, or DEPTHWISE_CONV_2D when depth_multiplier is given."""
    ins = [_t(x, np.float32, None), tensor(w.shape, np.float32, data=w),
           tensor(bias.shape, np.float32, data=bias)]
    if depth_multiplier is None:
        code, otype, opts = fb.BuiltinOperator.CONV_2D, fb.BuiltinOptions.Conv2DOptions, fb.Conv2DOptionsT()
    else:
        code, otype = fb.BuiltinOperator.DEPTHWISE_CONV_2D, fb.BuiltinOptions.DepthwiseConv2DOptions
        opts = fb.DepthwiseConv2DOptionsT()
        opts.depthMultiplier = depth_multiplier
    opts.padding, opts.strideH, opts.strideW = PADDING[padding], stride[0], stride[1]
    opts.dilationHFactor, opts.dilationWFactor = dilation
    opts.fusedActivationFunction = ACT[act]
    return run_op(code, otype, opts, ins, [_t(out_shape, np.float32, None)], [x])[0]


def fully_connected_f32(x, w, bias, act):
    ins = [_t(x, np.float32, None), tensor(w.shape, np.float32, data=w),
           None if bias is None else tensor(bias.shape, np.float32, data=bias)]
    opts = fb.FullyConnectedOptionsT()
    opts.fusedActivationFunction = ACT[act]
    return run_op(fb.BuiltinOperator.FULLY_CONNECTED, fb.BuiltinOptions.FullyConnectedOptions,
                  opts, ins, [_t((x.shape[0], w.shape[0]), np.float32, None)], [x])[0]


def binary_f32(kind, a, b, out_shape, act):
    code, otype, ocls = {
        "add": (fb.BuiltinOperator.ADD, fb.BuiltinOptions.AddOptions, fb.AddOptionsT),
        "sub": (fb.BuiltinOperator.SUB, fb.BuiltinOptions.SubOptions, fb.SubOptionsT),
        "mul": (fb.BuiltinOperator.MUL, fb.BuiltinOptions.MulOptions, fb.MulOptionsT),
    }[kind]
    opts = ocls()
    opts.fusedActivationFunction = ACT[act]
    return run_op(code, otype, opts, [_t(a, np.float32, None), _t(b, np.float32, None)],
                  [_t(out_shape, np.float32, None)], [a, b])[0]


def softmax_f32(x, beta):
    opts = fb.SoftmaxOptionsT()
    opts.beta = float(beta)
    return run_op(fb.BuiltinOperator.SOFTMAX, fb.BuiltinOptions.SoftmaxOptions, opts,
                  [_t(x, np.float32, None)], [_t(x, np.float32, None)], [x])[0]
