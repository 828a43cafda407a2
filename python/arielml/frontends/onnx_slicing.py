"""ONNX converters that cut tensors: Split, Slice, and Gather with a constant index, as
PyTorch exports them (`torch.split`/`chunk`, `x[:, a:b]`, `x[:, i]`). All become the IR's
SPLIT and STRIDED_SLICE, so they run on the existing kernels; axes are in ONNX (NCHW)
order and move to NHWC for rank-4 tensors."""

from __future__ import annotations

import numpy as np

from arielml.frontends.onnx_builder import NCHW_TO_NHWC, Builder, nhwc_axis
from arielml.ir import OpKind, SplitAttrs, StridedSliceAttrs


def _axis(b: Builder, node, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise b.fail(node, f"axis {axis} outside rank {rank}")
    return axis % rank


def _ir_axis(axis: int, rank: int) -> int:
    return nhwc_axis(axis) if rank == 4 else axis


def _int_list(b: Builder, name: str) -> list[int]:
    return [int(v) for v in np.asarray(b.const(name)).reshape(-1)]


def split(b: Builder, node, a: dict) -> None:
    """Sizes come from the inferred output shapes (the `split` input, `num_outputs`, or an
    equal split all give them). Multi-output nodes run in float in a QDQ graph: the
    QuantizeLinear after each output requantizes exactly (a copy's value is unchanged)."""
    xs = b.onnx_shape(node.input[0])
    axis = _axis(b, node, int(a.get("axis", 0)), len(xs))
    sizes = tuple(b.onnx_shape(o)[axis] for o in node.output)
    x = b.act(node.input[0], False)
    outs = [b.output(node, b.onnx_shape(o), None, index=i) for i, o in enumerate(node.output)]
    b.emit(OpKind.SPLIT, [x], outs, SplitAttrs(_ir_axis(axis, len(xs)), sizes))


def _quant(b: Builder, node):
    q = b.quant_output(node)
    return q if q is not None and b.is_q(node.input[0]) else None


def _strided(b: Builder, node, xs, begin, end, strides, shrink=()) -> None:
    rank = len(xs)
    if rank == 4:  # NCHW lists -> NHWC, as the IR tensor is laid out
        begin, end, strides = ([v[p] for p in NCHW_TO_NHWC] for v in (begin, end, strides))
        shrink = tuple(sorted(nhwc_axis(s) for s in shrink))
    q = _quant(b, node)
    y = b.output(node, b.onnx_shape(node.output[0]), q)
    b.emit(OpKind.STRIDED_SLICE, [b.act(node.input[0], q is not None)], [y],
           StridedSliceAttrs(tuple(begin), tuple(end), tuple(strides), tuple(shrink)))
    b.finish_output()


def slice_(b: Builder, node, a: dict) -> None:
    """Slice (opset >= 10: starts, ends, axes, steps as constant inputs), clamped as the
    standard says: negative indices count from the end; starts to [0, d] and ends to
    [0, d] for positive steps, [0, d-1] and [-1, d-1] for negative ones."""
    xs = b.onnx_shape(node.input[0])
    rank = len(xs)
    starts, ends = _int_list(b, node.input[1]), _int_list(b, node.input[2])
    axes = _int_list(b, node.input[3]) if len(node.input) > 3 and node.input[3] else list(range(len(starts)))
    steps = _int_list(b, node.input[4]) if len(node.input) > 4 and node.input[4] else [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise b.fail(node, "starts, ends, axes and steps differ in length")
    begin, end, strides = [0] * rank, list(xs), [1] * rank
    for s, e, ax, st in zip(starts, ends, axes, steps):
        ax = _axis(b, node, ax, rank)
        d = xs[ax]
        if st == 0:
            raise b.fail(node, "a step of 0")
        s, e = (s + d if s < 0 else s), (e + d if e < 0 else e)
        if st > 0:
            s, e = min(max(s, 0), d), min(max(e, 0), d)
        else:
            s, e = min(max(s, 0), d - 1), min(max(e, -1), d - 1)
        begin[ax], end[ax], strides[ax] = s, e, st
    _strided(b, node, xs, begin, end, strides)


def gather(b: Builder, node, a: dict) -> None:
    """Gather of an activation at constant indices: one index (a scalar drops the axis,
    a one-element vector keeps it) is a slice. Gathers of constants were folded at import;
    other gathers need a kernel arielml does not have yet."""
    xs = b.onnx_shape(node.input[0])
    axis = _axis(b, node, int(a.get("axis", 0)), len(xs))
    if b.is_const(node.input[0]) or not b.is_const(node.input[1]):
        raise b.fail(node, "only a gather of an activation at constant indices is supported")
    idx = np.asarray(b.const(node.input[1]))
    if idx.size != 1 or idx.ndim > 1:
        raise b.fail(node, f"gathers {idx.size} indices; only one index (a slice) is supported")
    i = int(idx.reshape(-1)[0])
    i = i + xs[axis] if i < 0 else i
    if not 0 <= i < xs[axis]:
        raise b.fail(node, f"index {i} outside dim {xs[axis]}")
    begin, end, strides = [0] * len(xs), list(xs), [1] * len(xs)
    begin[axis], end[axis] = i, i + 1
    if idx.ndim == 0 and len(xs) == 4:
        raise b.fail(node, "a scalar gather of a rank-4 tensor changes its layout; not supported")
    _strided(b, node, xs, begin, end, strides, (axis,) if idx.ndim == 0 else ())


CONVERTERS = {"Split": split, "Slice": slice_, "Gather": gather}
