"""Shape rules: the output shapes an op must produce from its inputs and attributes (each
op kind's record in ir/kinds.py names its rule).

verify() compares these with the declared output types; frontends use the padding helpers
so that "SAME" is resolved exactly as TFLite resolves it.
"""

from __future__ import annotations

import math

import numpy as np

from arielml.ir.ops import Op, Padding

Shape = tuple[int, ...]


class ShapeError(ValueError):
    pass


def conv_out_size(in_size: int, filt: int, stride: int, dilation: int,
                  pad_before: int, pad_after: int) -> int:
    eff = (filt - 1) * dilation + 1
    return (in_size + pad_before + pad_after - eff) // stride + 1


def same_pads(in_size: int, filt: int, stride: int, dilation: int) -> tuple[int, int]:
    """TFLite's ComputePaddingWithOffset for SAME: the odd pixel goes after (bottom/right)."""
    out = (in_size + stride - 1) // stride
    eff = (filt - 1) * dilation + 1
    total = max((out - 1) * stride + eff - in_size, 0)
    return total // 2, total // 2 + total % 2


def same_padding(hw: tuple[int, int], filt: tuple[int, int], stride: tuple[int, int],
                 dilation: tuple[int, int] = (1, 1)) -> Padding:
    t, b = same_pads(hw[0], filt[0], stride[0], dilation[0])
    l, r = same_pads(hw[1], filt[1], stride[1], dilation[1])
    return Padding(t, b, l, r)


def _need(cond: bool, msg: str) -> None:
    if not cond:
        raise ShapeError(msg)


def _spatial(x: Shape, filt: tuple[int, int], stride, dilation, pad: Padding) -> tuple[int, int]:
    _need(len(x) == 4, f"input must be NHWC (rank 4), got {list(x)}")
    _need(len(filt) == len(stride) == len(dilation) == 2,
          f"filter, stride and dilation must each have 2 values, got {list(filt)}, {list(stride)}, {list(dilation)}")
    _need(min(stride) >= 1 and min(dilation) >= 1, "stride and dilation must be >= 1")
    oh = conv_out_size(x[1], filt[0], stride[0], dilation[0], pad.top, pad.bottom)
    ow = conv_out_size(x[2], filt[1], stride[1], dilation[1], pad.left, pad.right)
    _need(oh >= 1 and ow >= 1, f"filter {filt} larger than padded input {list(x)}")
    return oh, ow


def broadcast(a: Shape, b: Shape) -> Shape:
    try:
        return tuple(int(d) for d in np.broadcast_shapes(a, b))
    except ValueError:
        raise ShapeError(f"shapes {list(a)} and {list(b)} do not broadcast") from None


def _weighted_window(op: Op, s: list[Shape], out_c) -> list[Shape]:
    x, w, a = s[0], s[1], op.attrs
    _need(len(w) == 4, f"weights must be rank 4, got {list(w)}")
    oh, ow = _spatial(x, (w[1], w[2]), a.stride, a.dilation, a.padding)
    c = out_c(x, w, a)
    if len(s) > 2:
        _need(s[2] == (c,), f"bias {list(s[2])} does not match {c} output channels")
    return [(x[0], oh, ow, c)]


def conv2d(op: Op, s: list[Shape]) -> list[Shape]:
    def out_c(x, w, a):
        _need(w[3] == x[3], f"weights expect {w[3]} input channels, input has {x[3]}")
        return w[0]
    return _weighted_window(op, s, out_c)


def depthwise(op: Op, s: list[Shape]) -> list[Shape]:
    def out_c(x, w, a):
        _need(w[0] == 1 and w[3] == x[3] * a.depth_multiplier,
              f"depthwise weights {list(w)} do not match {x[3]} channels x {a.depth_multiplier}")
        return w[3]
    return _weighted_window(op, s, out_c)


def fully_connected(op: Op, s: list[Shape]) -> list[Shape]:
    x, w = s[0], s[1]
    _need(len(w) == 2 and len(x) >= 1, f"weights must be [units, K], got {list(w)}")
    k = w[1]
    _need(k > 0 and math.prod(x) % k == 0, f"input {list(x)} does not flatten to [*, {k}]")
    if len(s) > 2:
        _need(s[2] == (w[0],), f"bias {list(s[2])} does not match {w[0]} units")
    if op.attrs.keep_num_dims:
        _need(x[-1] == k, f"input {list(x)} last dim is not {k}")
        return [x[:-1] + (w[0],)]
    return [(math.prod(x) // k, w[0])]


def pool(op: Op, s: list[Shape]) -> list[Shape]:
    a = op.attrs
    oh, ow = _spatial(s[0], a.filter, a.stride, (1, 1), a.padding)
    return [(s[0][0], oh, ow, s[0][3])]


def _axis(axis: int, rank: int) -> int:
    _need(0 <= axis < rank, f"axis {axis} outside rank {rank}")
    return axis


def concat(op: Op, s: list[Shape]) -> list[Shape]:
    ax = _axis(op.attrs.axis, len(s[0]))
    for o in s[1:]:
        _need(len(o) == len(s[0]) and all(o[i] == s[0][i] for i in range(len(o)) if i != ax),
              f"cannot concatenate {list(o)} with {list(s[0])} on axis {ax}")
    return [s[0][:ax] + (sum(o[ax] for o in s),) + s[0][ax + 1:]]


def pack(op: Op, s: list[Shape]) -> list[Shape]:
    ax = _axis(op.attrs.axis, len(s[0]) + 1)
    _need(all(o == s[0] for o in s), "PACK inputs differ in shape")
    return [s[0][:ax] + (len(s),) + s[0][ax:]]


def pad(op: Op, s: list[Shape]) -> list[Shape]:
    p = op.attrs.pads
    _need(len(p) == len(s[0]) and all(a >= 0 and b >= 0 for a, b in p), "bad paddings")
    return [tuple(d + a + b for d, (a, b) in zip(s[0], p))]


def mean(op: Op, s: list[Shape]) -> list[Shape]:
    axes = {_axis(a, len(s[0])) for a in op.attrs.axes}
    if op.attrs.keep_dims:
        return [tuple(1 if i in axes else d for i, d in enumerate(s[0]))]
    return [tuple(d for i, d in enumerate(s[0]) if i not in axes)]


def reshape(op: Op, s: list[Shape]) -> list[Shape]:
    new = tuple(op.attrs.shape)
    _need(math.prod(new) == math.prod(s[0]), f"cannot reshape {list(s[0])} to {list(new)}")
    return [new]


def strided_slice(op: Op, s: list[Shape]) -> list[Shape]:
    a, x = op.attrs, s[0]
    _need(len(a.begin) == len(a.end) == len(a.strides) == len(x), "slice rank mismatch")
    dims = []
    for d, b, e, st in zip(x, a.begin, a.end, a.strides):
        _need(st != 0, "slice stride 0")
        dims.append(len(range(b, e, st)) if 0 <= b <= d and -1 <= e <= d else -1)
        _need(dims[-1] >= 0, f"slice [{b}:{e}:{st}] outside dim {d}")
    return [tuple(d for i, d in enumerate(dims) if i not in a.shrink_axes)]


def split(op: Op, s: list[Shape]) -> list[Shape]:
    ax = _axis(op.attrs.axis, len(s[0]))
    _need(sum(op.attrs.sizes) == s[0][ax] and min(op.attrs.sizes) >= 0,
          f"split sizes {list(op.attrs.sizes)} do not sum to {s[0][ax]}")
    return [s[0][:ax] + (n,) + s[0][ax + 1:] for n in op.attrs.sizes]


def transpose(op: Op, s: list[Shape]) -> list[Shape]:
    perm = op.attrs.perm
    _need(sorted(perm) == list(range(len(s[0]))), f"bad permutation {list(perm)}")
    return [tuple(s[0][p] for p in perm)]


def binary(op: Op, s: list[Shape]) -> list[Shape]:
    return [broadcast(s[0], s[1])]


def same(op: Op, s: list[Shape]) -> list[Shape]:
    return [s[0]]


def shape_of(op: Op, s: list[Shape]) -> list[Shape]:
    return [(len(s[0]),)]
