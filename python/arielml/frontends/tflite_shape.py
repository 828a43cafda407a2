"""TFLite converters for data-movement ops: CONCATENATION, PAD, MEAN, RESHAPE, SQUEEZE,
EXPAND_DIMS, STRIDED_SLICE, SPLIT/SPLIT_V, TRANSPOSE, PACK, SHAPE.

Shape-like inputs (paddings, axes, begin/end, perm, sizes) must be constants: they become
attributes so kernels never read them at run time. RESHAPE-like ops take the static output
shape, so a Keras SHAPE -> STRIDED_SLICE -> PACK chain feeding them becomes dead code.
"""

from __future__ import annotations

from tflite.BuiltinOperator import BuiltinOperator as B

from arielml.frontends.tflite_ctx import Ctx
from arielml.ir import (
    AxisAttrs, MeanAttrs, Op, OpKind, PadAttrs, ReshapeAttrs, SplitAttrs, StridedSliceAttrs,
    TransposeAttrs,
)


def concatenation(ctx: Ctx) -> list[Op]:
    o = ctx.options("ConcatenationOptions", "Axis", "FusedActivationFunction")
    x = ctx.need(0)
    attrs = AxisAttrs(ctx.axis(o["Axis"], len(x.shape)), ctx.clamp(o["FusedActivationFunction"]))
    return [Op(OpKind.CONCATENATION, ctx.data_inputs(ctx.n_inputs()), ctx.outputs(), attrs)]


def pack(ctx: Ctx) -> list[Op]:
    o = ctx.options("PackOptions", "ValuesCount", "Axis")
    x = ctx.need(0)
    attrs = AxisAttrs(ctx.axis(o["Axis"], len(x.shape) + 1))
    return [Op(OpKind.PACK, ctx.data_inputs(ctx.n_inputs()), ctx.outputs(), attrs)]


def pad(ctx: Ctx) -> list[Op]:
    x, y = ctx.need(0), ctx.output()
    p = ctx.const(1)
    if p.shape != (len(x.shape), 2):
        raise ctx.fail(f"paddings shape {list(p.shape)} does not fit rank {len(x.shape)}")
    pads = tuple((int(a), int(b)) for a, b in p)
    value = 0.0
    if ctx.input(2) is not None:  # PADV2: the constant is already in the tensor's domain
        value = float(ctx.const(2).reshape(-1)[0]) if ctx.const(2).size else 0.0
    elif y.quant is not None:
        value = float(y.quant.zero_point[0])
    return [Op(OpKind.PAD, (x.name,), ctx.outputs(), PadAttrs(pads, value))]


def _reduce(kind: OpKind):
    """MEAN, SUM, REDUCE_MAX, REDUCE_MIN: constant axes, ReducerOptions' keep_dims."""
    def convert(ctx: Ctx) -> list[Op]:
        o = ctx.options("ReducerOptions", "KeepDims")
        rank = len(ctx.need(0).shape)
        axes = tuple(sorted({ctx.axis(a, rank) for a in ctx.const_ints(1)}))
        return [Op(kind, (ctx.name(0),), ctx.outputs(), MeanAttrs(axes, bool(o["KeepDims"])))]
    convert.__name__ = kind.value.lower()
    return convert


mean = _reduce(OpKind.MEAN)


def _reshape_like(ctx: Ctx, kind: OpKind) -> list[Op]:
    return [Op(kind, (ctx.name(0),), ctx.outputs(), ReshapeAttrs(ctx.output().shape))]


def reshape(ctx: Ctx) -> list[Op]:
    return _reshape_like(ctx, OpKind.RESHAPE)


def squeeze(ctx: Ctx) -> list[Op]:
    return _reshape_like(ctx, OpKind.SQUEEZE)


def expand_dims(ctx: Ctx) -> list[Op]:
    return _reshape_like(ctx, OpKind.EXPAND_DIMS)


def transpose(ctx: Ctx) -> list[Op]:
    return [Op(OpKind.TRANSPOSE, (ctx.name(0),), ctx.outputs(), TransposeAttrs(ctx.const_ints(1)))]


def shape(ctx: Ctx) -> list[Op]:
    return [Op(OpKind.SHAPE, (ctx.name(0),), ctx.outputs())]


def _split_op(ctx: Ctx, data: int, axis: int, sizes: tuple[int, ...]) -> list[Op]:
    x = ctx.need(data)
    attrs = SplitAttrs(ctx.axis(axis, len(x.shape)), sizes)
    return [Op(OpKind.SPLIT, (x.name,), ctx.outputs(), attrs)]


def split(ctx: Ctx) -> list[Op]:
    # SPLIT's inputs are (axis, data): the axis comes first.
    axis = ctx.const_ints(0)
    x, n = ctx.need(1), len(ctx.outputs())
    if len(axis) != 1:
        raise ctx.fail("axis must be a scalar")
    ax = ctx.axis(axis[0], len(x.shape))
    if n == 0 or x.shape[ax] % n:
        raise ctx.fail(f"dim {x.shape[ax]} does not split into {n} parts")
    return _split_op(ctx, 1, ax, (x.shape[ax] // n,) * n)


def split_v(ctx: Ctx) -> list[Op]:
    x, sizes = ctx.need(0), list(ctx.const_ints(1))
    axis = ctx.const_ints(2)
    if len(axis) != 1:
        raise ctx.fail("axis must be a scalar")
    ax = ctx.axis(axis[0], len(x.shape))
    if sizes.count(-1) == 1:  # one size may be inferred
        sizes[sizes.index(-1)] = x.shape[ax] - (sum(sizes) + 1)
    return _split_op(ctx, 0, ax, tuple(sizes))


def _resolve(v: int, masked: bool, d: int, s: int, is_begin: bool) -> int:
    # TFLite's StartForAxis/StopForAxis: masks take the full range, negatives wrap, clamp.
    if masked:
        if is_begin:
            return 0 if s > 0 else d - 1
        return d if s > 0 else -1
    if v < 0:
        v += d
    return min(max(v, 0), d) if s > 0 else min(max(v, -1), d - 1)


def strided_slice(ctx: Ctx) -> list[Op]:
    o = ctx.options("StridedSliceOptions", "BeginMask", "EndMask", "EllipsisMask",
                    "NewAxisMask", "ShrinkAxisMask", "Offset")
    if o["EllipsisMask"] or o["NewAxisMask"] or o["Offset"]:
        raise ctx.fail("ellipsis, new-axis and offset slices are not supported")
    x = ctx.need(0)
    begin, end, strides = ctx.const_ints(1), ctx.const_ints(2), ctx.const_ints(3)
    rank = len(x.shape)
    if not len(begin) == len(end) == len(strides) == rank or 0 in strides:
        raise ctx.fail("begin/end/strides do not match the input rank")
    b_out, e_out, shrink = [], [], []
    for i, (d, b, e, s) in enumerate(zip(x.shape, begin, end, strides)):
        bit = 1 << i
        if o["ShrinkAxisMask"] & bit:
            b = b + d if b < 0 else b
            b_out.append(b)
            e_out.append(b + 1 if s > 0 else b - 1)
            shrink.append(i)
            continue
        b_out.append(_resolve(b, bool(o["BeginMask"] & bit), d, s, True))
        e_out.append(_resolve(e, bool(o["EndMask"] & bit), d, s, False))
    attrs = StridedSliceAttrs(tuple(b_out), tuple(e_out), strides, tuple(shrink))
    return [Op(OpKind.STRIDED_SLICE, (x.name,), ctx.outputs(), attrs)]


# Builtin opcode -> converter, for the registry in tflite.py.
CONVERTERS = {
    B.CONCATENATION: concatenation,
    B.PAD: pad,
    B.PADV2: pad,
    B.MEAN: mean,
    B.SUM: _reduce(OpKind.SUM),
    B.REDUCE_MAX: _reduce(OpKind.REDUCE_MAX),
    B.REDUCE_MIN: _reduce(OpKind.REDUCE_MIN),
    B.RESHAPE: reshape,
    B.SQUEEZE: squeeze,
    B.EXPAND_DIMS: expand_dims,
    B.STRIDED_SLICE: strided_slice,
    B.SPLIT: split,
    B.SPLIT_V: split_v,
    B.TRANSPOSE: transpose,
    B.PACK: pack,
    B.SHAPE: shape,
}
