"""ONNX converters: each takes the Builder, the node and its attributes (a dict), and emits
IR ops. Quantized (QDQ) and float nodes share one converter: `_mode` decides which.
"""

from __future__ import annotations

import math

import numpy as np

from arielml.frontends import onnx_slicing as slicing
from arielml.frontends.onnx_builder import NCHW_TO_NHWC, NHWC_TO_NCHW, Builder, nhwc_axis
from arielml.ir import (
    NO_CLAMP, AxisAttrs, BinaryAttrs, ClampAttrs, Conv2DAttrs, DType, FullyConnectedAttrs,
    LeakyReluAttrs, MeanAttrs, OpKind, PadAttrs, Padding, Pool2DAttrs, Quant, ReshapeAttrs,
    SoftmaxAttrs, TensorType, TransposeAttrs, same_padding,
)


SOFTMAX_QUANT = Quant.per_tensor(1.0 / 256, -128)


def _mode(b: Builder, node, data_inputs) -> tuple | None:
    """The folded QuantizeLinear output (name, quant, dtype) if the node runs in int8."""
    q = b.quant_output(node)
    if q is not None and all(b.is_q(n) for n in data_inputs):
        return q
    return None


def _opt(node, i: int) -> str | None:
    return node.input[i] if len(node.input) > i and node.input[i] else None


def _const_tensor(b: Builder, name: str, quantized: bool, perm=None, rank: int | None = None,
                  dtype: DType | None = None, flat: bool = False) -> str:
    """An IR constant from an ONNX constant, optionally re-ranked, transposed or flattened
    (biases may come as [1, N])."""
    if quantized:
        data, quant = b.qconst(name)
    else:
        data, quant = b.const(name).astype(np.float32), None
    if flat:
        data = data.reshape(-1)
        if quant is not None and quant.axis is not None:
            quant = Quant(quant.scale, quant.zero_point, 0)
    if rank is not None and data.ndim < rank:
        lead = rank - data.ndim
        data = data.reshape((1,) * lead + data.shape)
        if quant is not None and quant.axis is not None:
            quant = Quant(quant.scale, quant.zero_point, quant.axis + lead)
    if perm is not None:
        data = np.transpose(data, perm)
        if quant is not None and quant.axis is not None:
            quant = Quant(quant.scale, quant.zero_point, list(perm).index(quant.axis))
    if quant is not None and quant.axis is None and len(quant.scale) > 1:
        quant = Quant(quant.scale, quant.zero_point, 0)
    data = np.ascontiguousarray(data)
    if dtype is not None:
        data = data.astype(dtype.numpy)
    ir_dtype = {np.dtype(t.value): t for t in DType}[data.dtype]
    return b.add(b.fresh(name), TensorType(tuple(data.shape), ir_dtype, quant), data)


def _pads(b: Builder, node, a: dict, hw, kernel, stride, dilation) -> Padding:
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        p = same_padding(hw, kernel, stride, dilation)  # TFLite's rule = SAME_UPPER
        return p if auto == "SAME_UPPER" else Padding(p.bottom, p.top, p.right, p.left)
    if auto == "VALID":
        return Padding()
    pads = list(a.get("pads", [0, 0, 0, 0]))
    if len(pads) != 4:
        raise b.fail(node, f"only 2-D spatial ops are supported (pads {pads})")
    return Padding(pads[0], pads[2], pads[1], pads[3])


def _spatial(b: Builder, node, a: dict, x_nchw, kernel):
    if len(x_nchw) != 4 or len(kernel) != 2:
        raise b.fail(node, f"only 2-D NCHW inputs are supported, got {list(x_nchw)}")
    stride = tuple(a.get("strides", [1, 1]))
    dilation = tuple(a.get("dilations", [1, 1]))
    return stride, dilation, _pads(b, node, a, x_nchw[2:], tuple(kernel), stride, dilation)


def _finish(b: Builder, node, kind: OpKind, inputs, attrs, q, onnx_order=False) -> None:
    y = b.output(node, b.onnx_shape(node.output[0]), q, onnx_order=onnx_order)
    b.emit(kind, inputs, [y], attrs)
    b.finish_output()


def conv(b: Builder, node, a: dict) -> None:
    x, w, bias = node.input[0], node.input[1], _opt(node, 2)
    q = _mode(b, node, [x, w] + ([bias] if bias else []))
    xs, ws = b.onnx_shape(x), b.onnx_shape(w)
    stride, dil, pad = _spatial(b, node, a, xs, ws[2:])
    group = int(a.get("group", 1))
    depthwise = group > 1 and group == xs[1] and ws[1] == 1
    if group != 1 and not depthwise:
        raise b.fail(node, f"grouped convolution (group={group}) is not supported")
    # OIHW -> OHWI (conv) or 1HW(C*M) (depthwise), as TFLite stores them.
    w_ir = _const_tensor(b, w, q is not None, (1, 2, 3, 0) if depthwise else (0, 2, 3, 1))
    inputs = [b.act(x, q is not None), w_ir]
    if bias:
        inputs.append(_const_tensor(b, bias, q is not None, flat=True))
    kind = OpKind.DEPTHWISE_CONV_2D if depthwise else OpKind.CONV_2D
    attrs = Conv2DAttrs(stride, dil, pad, NO_CLAMP, ws[0] // xs[1] if depthwise else 1)
    _finish(b, node, kind, inputs, attrs, q)


def _fc(b: Builder, node, x: str, w: str, bias: str | None, transpose_w: bool) -> None:
    q = _mode(b, node, [x, w] + ([bias] if bias else []))
    if len(b.onnx_shape(w)) != 2:
        raise b.fail(node, "weights must be a 2-D constant")
    inputs = [b.act(x, q is not None),
              _const_tensor(b, w, q is not None, (1, 0) if transpose_w else None)]
    if bias:
        inputs.append(_const_tensor(b, bias, q is not None, flat=True))
    keep = len(b.onnx_shape(x)) > 2
    _finish(b, node, OpKind.FULLY_CONNECTED, inputs, FullyConnectedAttrs(NO_CLAMP, keep), q)


def gemm(b: Builder, node, a: dict) -> None:
    if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
        raise b.fail(node, "only Gemm with transA=0, alpha=beta=1 is supported")
    if not b.is_const(node.input[1]):
        raise b.fail(node, "the B input must be a constant")
    _fc(b, node, node.input[0], node.input[1], _opt(node, 2), not a.get("transB", 0))


def matmul(b: Builder, node, a: dict) -> None:
    if not b.is_const(node.input[1]):
        raise b.fail(node, "only MatMul with constant 2-D weights is supported")
    _fc(b, node, node.input[0], node.input[1], None, True)


def _binary(kind: OpKind):
    def convert(b: Builder, node, a: dict) -> None:
        q = _mode(b, node, node.input[:2])
        out_rank = len(b.onnx_shape(node.output[0]))
        inputs = []
        for name in node.input[:2]:
            if b.is_const(name):
                perm = NCHW_TO_NHWC if out_rank == 4 else None
                inputs.append(_const_tensor(b, name, q is not None, perm, rank=out_rank))
            elif len(b.onnx_shape(name)) != out_rank and out_rank == 4:
                raise b.fail(node, "broadcasting a lower-rank activation against NCHW")
            else:
                inputs.append(b.act(name, q is not None))
        _finish(b, node, kind, inputs, BinaryAttrs(), q)
    return convert


def _pool(kind: OpKind):
    def convert(b: Builder, node, a: dict) -> None:
        if a.get("ceil_mode", 0) or any(d != 1 for d in a.get("dilations", [1, 1])):
            raise b.fail(node, "ceil_mode and dilated pooling are not supported")
        x = node.input[0]
        q = _mode(b, node, [x])
        kernel = tuple(a.get("kernel_shape", []))
        stride, _, pad = _spatial(b, node, a, b.onnx_shape(x), kernel)
        if kind is OpKind.AVERAGE_POOL_2D and a.get("count_include_pad", 0) and pad != Padding():
            raise b.fail(node, "count_include_pad=1 with padding is not supported")
        _finish(b, node, kind, [b.act(x, q is not None)], Pool2DAttrs(kernel, stride, pad), q)
    return convert


def global_average_pool(b: Builder, node, a: dict) -> None:
    x = node.input[0]
    q = _mode(b, node, [x])
    xs = b.onnx_shape(x)
    if len(xs) != 4:
        raise b.fail(node, "only 2-D global pooling is supported")
    _finish(b, node, OpKind.AVERAGE_POOL_2D, [b.act(x, q is not None)],
            Pool2DAttrs((xs[2], xs[3]), (1, 1)), q)


def _unary(kind: OpKind, attrs_of=lambda b, node, a: None):
    def convert(b: Builder, node, a: dict) -> None:
        q = _mode(b, node, node.input[:1])
        _finish(b, node, kind, [b.act(node.input[0], q is not None)], attrs_of(b, node, a), q)
    return convert


def _clip_kind(b: Builder, node, a: dict):
    lo = float(b.const(node.input[1]).reshape(-1)[0]) if _opt(node, 1) else -math.inf
    hi = float(b.const(node.input[2]).reshape(-1)[0]) if _opt(node, 2) else math.inf
    return ClampAttrs((lo, hi))


def clip(b: Builder, node, a: dict) -> None:
    attrs = _clip_kind(b, node, a)
    kind = {(0.0, 6.0): OpKind.RELU6, (0.0, math.inf): OpKind.RELU}.get(attrs.clamp, OpKind.CLIP)
    q = _mode(b, node, node.input[:1])
    _finish(b, node, kind, [b.act(node.input[0], q is not None)], attrs, q)


def softmax(b: Builder, node, a: dict) -> None:
    rank = len(b.onnx_shape(node.input[0]))
    axis = a.get("axis", -1) % rank
    if not (axis == rank - 1 and rank < 4) and not (rank == 4 and axis == 1):
        raise b.fail(node, f"softmax must run over the channel/last axis, got axis {axis}")
    q = _mode(b, node, node.input[:1])
    x = b.act(node.input[0], q is not None)
    if q is None or q[1] == SOFTMAX_QUANT:
        _finish(b, node, OpKind.SOFTMAX, [x], SoftmaxAttrs(1.0), q)
        return
    # TFLM's int8 softmax always writes scale 1/256, zero point -128; ONNX quantizers
    # pick their own, so requantize to it afterwards.
    shape = b.tensors[x].shape
    mid = b.add(b.fresh(node.output[0]), TensorType(shape, DType.INT8, SOFTMAX_QUANT))
    b.emit(OpKind.SOFTMAX, [x], [mid], SoftmaxAttrs(1.0))
    _finish(b, node, OpKind.QUANTIZE, [mid], None, q)


def reshape(b: Builder, node, a: dict) -> None:
    """Reshape, Flatten, Squeeze, Unsqueeze: memory order matters, so work in NCHW order."""
    q = _mode(b, node, node.input[:1])
    x = b.to_onnx_layout(b.act(node.input[0], q is not None))
    y = b.output(node, b.onnx_shape(node.output[0]), q, onnx_order=True)
    b.emit(OpKind.RESHAPE, [x], [y], ReshapeAttrs(b.tensors[y].shape))
    b.finish_output()


def transpose(b: Builder, node, a: dict) -> None:
    q = _mode(b, node, node.input[:1])
    rank = len(b.onnx_shape(node.input[0]))
    perm = list(a.get("perm", range(rank - 1, -1, -1)))
    if rank == 4:  # x_nchw = x_ir.transpose(NHWC_TO_NCHW)
        perm = [NHWC_TO_NCHW[i] for i in perm]
    if len(b.onnx_shape(node.output[0])) == 4:
        perm = [perm[i] for i in NCHW_TO_NHWC]
    _finish(b, node, OpKind.TRANSPOSE, [b.act(node.input[0], q is not None)],
            TransposeAttrs(tuple(perm)), q)


def concat(b: Builder, node, a: dict) -> None:
    q = _mode(b, node, node.input)
    rank = len(b.onnx_shape(node.output[0]))
    axis = int(a.get("axis", 0)) % rank
    inputs = [b.act(n, q is not None) for n in node.input]
    _finish(b, node, OpKind.CONCATENATION, inputs,
            AxisAttrs(nhwc_axis(axis) if rank == 4 else axis), q)


def pad(b: Builder, node, a: dict) -> None:
    mode = a.get("mode", b"constant")
    if (mode.decode() if isinstance(mode, bytes) else mode) != "constant" or _opt(node, 3):
        raise b.fail(node, "only constant padding on all axes is supported")
    q = _mode(b, node, node.input[:1])
    pads = [int(p) for p in b.const(node.input[1]).reshape(-1)]
    rank = len(pads) // 2
    pairs = [(pads[i], pads[i + rank]) for i in range(rank)]
    if rank == 4:
        pairs = [pairs[p] for p in NCHW_TO_NHWC]
    value = float(b.const(node.input[2]).reshape(-1)[0]) if _opt(node, 2) else 0.0
    if q is not None:  # the pad value lives in the int8 domain
        value = float(q[1].zero_point[0] + round(value / q[1].scale[0]))
    _finish(b, node, OpKind.PAD, [b.act(node.input[0], q is not None)],
            PadAttrs(tuple(pairs), value), q)


def _reduce(kind: OpKind):
    """ReduceMean, ReduceSum, ReduceMax, ReduceMin: axes as attribute or constant input."""
    def convert(b: Builder, node, a: dict) -> None:
        _reduce_to(b, node, a, kind)
    return convert


def _reduce_to(b: Builder, node, a: dict, kind: OpKind) -> None:
    rank = len(b.onnx_shape(node.input[0]))
    axes = a.get("axes") or ([int(v) for v in b.const(node.input[1]).reshape(-1)]
                             if _opt(node, 1) else [])
    if not axes and a.get("noop_with_empty_axes", 0):
        raise b.fail(node, "noop_with_empty_axes with no axes (an identity) is not supported")
    axes = axes or list(range(rank))
    axes = sorted(int(x) % rank for x in axes)
    keep = bool(a.get("keepdims", 1))
    if rank == 4:
        kept = [nhwc_axis(i) for i in range(4) if i not in axes]
        if not keep and kept != sorted(kept):
            raise b.fail(node, "this reduction would reorder the remaining axes")
        axes = sorted(nhwc_axis(x) for x in axes)
    q = _mode(b, node, node.input[:1])
    _finish(b, node, kind, [b.act(node.input[0], q is not None)], MeanAttrs(tuple(axes), keep), q)


def batch_normalization(b: Builder, node, a: dict) -> None:
    """Inference-mode BatchNormalization (float): y = x * k + c per channel (axis 1), with
    k = scale / sqrt(var + eps) and c = B - mean * k in float32, the order onnxruntime's
    kernel computes them in; as MUL then ADD by per-channel constants. In QDQ graphs the
    quantizer folds BN into the convolution before it; an unfolded one is refused."""
    if a.get("training_mode", 0):
        raise b.fail(node, "training-mode BatchNormalization is not supported")
    if b.is_q(node.input[0]) or b.quant_output(node) is not None:
        raise b.fail(node, "int8 BatchNormalization (not folded into a convolution) is not supported")
    xs = b.onnx_shape(node.input[0])
    if len(xs) < 2:
        raise b.fail(node, "needs an input of rank >= 2 (N, C, ...)")
    scale, bias, mean, var = (np.asarray(b.const(n), np.float32).reshape(-1) for n in node.input[1:5])
    eps = np.float32(a.get("epsilon", 1e-5))
    k = (scale / np.sqrt(var + eps)).astype(np.float32)
    c = (bias - mean * k).astype(np.float32)
    # per-channel constants broadcast over the IR layout (NHWC for rank 4, else ONNX order)
    shape = (1, 1, 1, xs[1]) if len(xs) == 4 else (1, xs[1]) + (1,) * (len(xs) - 2)
    x = b.act(node.input[0], False)
    mid = b.add(b.fresh(node.output[0]), TensorType(b.tensors[x].shape, DType.FLOAT32))
    kt = b.add(b.fresh(node.output[0] + "/k"), TensorType(shape, DType.FLOAT32), k.reshape(shape))
    ct = b.add(b.fresh(node.output[0] + "/c"), TensorType(shape, DType.FLOAT32), c.reshape(shape))
    b.emit(OpKind.MUL, [x, kt], [mid], BinaryAttrs())
    _finish(b, node, OpKind.ADD, [mid, ct], BinaryAttrs(), None)


def identity(b: Builder, node, a: dict) -> None:
    x, y = node.input[0], node.output[0]
    if x in b.dq_act:
        b.dq_act[y] = b.dq_act[x]
    elif x in b.dq_const:
        b.dq_const[y] = b.dq_const[x]
    elif x in b.init:
        b.init[y] = b.init[x]
    else:
        b.ir_name[y] = b.act(x, False)


REGISTRY = {
    "Conv": conv, "Gemm": gemm, "MatMul": matmul,
    "Add": _binary(OpKind.ADD), "Sub": _binary(OpKind.SUB), "Mul": _binary(OpKind.MUL),
    "MaxPool": _pool(OpKind.MAX_POOL_2D), "AveragePool": _pool(OpKind.AVERAGE_POOL_2D),
    "GlobalAveragePool": global_average_pool,
    "Relu": _unary(OpKind.RELU, lambda *_: ClampAttrs((0.0, math.inf))),
    "Clip": clip,
    "Sigmoid": _unary(OpKind.LOGISTIC), "Tanh": _unary(OpKind.TANH),
    "HardSwish": _unary(OpKind.HARD_SWISH),
    "LeakyRelu": _unary(OpKind.LEAKY_RELU,
                        lambda b, n, a: LeakyReluAttrs(float(a.get("alpha", 0.01)))),
    "Softmax": softmax,
    "Div": _binary(OpKind.DIV),
    **{name: _unary(kind) for name, kind in (
        ("Abs", OpKind.ABS), ("Neg", OpKind.NEG), ("Sqrt", OpKind.SQRT), ("Exp", OpKind.EXP),
        ("Log", OpKind.LOG), ("Sin", OpKind.SIN), ("Cos", OpKind.COS))},
    "Reshape": reshape, "Flatten": reshape, "Squeeze": reshape, "Unsqueeze": reshape,
    "Transpose": transpose, "Concat": concat, "Pad": pad, "ReduceMean": _reduce(OpKind.MEAN),
    "ReduceSum": _reduce(OpKind.SUM), "ReduceMax": _reduce(OpKind.REDUCE_MAX),
    "ReduceMin": _reduce(OpKind.REDUCE_MIN),
    "Identity": identity, "BatchNormalization": batch_normalization,
    **slicing.CONVERTERS,
}
