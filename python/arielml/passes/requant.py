"""Precompute int8 requantization: float scales -> int32 multiplier + shift, as TFLM's
Prepare does, so kernels only see integers (and match TFLM bit for bit).

The arithmetic lives in arielml.ir.quant (shared with the kernel tests); this pass decides
which formula each op uses and where the result goes (Op.requant).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from arielml.errors import UsageError
from arielml.ir import (
    AddRequant, ChannelRequant, DType, Graph, MulRequant, Op, OpKind, SoftmaxRequant, Tensor,
)
from arielml.ir import quant as q


def activation_bounds(clamp: tuple[float, float], out: Tensor) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for any real clamp range (float32 division)."""
    qmin, qmax = out.dtype.int_range
    scale, zp = out.quant.scale[0], out.quant.zero_point[0]

    def quantize(f: float) -> int:
        return zp + q._round_half_away(float(np.float32(f) / np.float32(scale)))

    lo = qmin if math.isinf(clamp[0]) else max(qmin, quantize(clamp[0]))
    hi = qmax if math.isinf(clamp[1]) else min(qmax, quantize(clamp[1]))
    return lo, hi


def _channel(op: Op, x: Tensor, w: Tensor, y: Tensor) -> ChannelRequant:
    if op.kind is OpKind.FULLY_CONNECTED:
        m, s = q.fully_connected_multipliers(x.quant.scale[0], w.quant.scale, y.quant.scale[0],
                                             w.shape[0])
    else:
        channels = y.shape[-1]
        m, s = q.conv_per_channel_multipliers(x.quant.scale[0], w.quant.scale,
                                              y.quant.scale[0], channels)
    lo, hi = activation_bounds(op.attrs.clamp, y)
    return ChannelRequant(tuple(int(v) for v in m), tuple(int(v) for v in s), lo, hi)


def _params(g: Graph, op: Op):
    ins = [g.tensors[n] for n in op.inputs]
    y = g.tensors[op.outputs[0]]
    if ins[0].dtype is not DType.INT8 or y.dtype is not DType.INT8:
        return None
    if op.kind in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.FULLY_CONNECTED):
        return _channel(op, ins[0], ins[1], y)
    if op.kind in (OpKind.ADD, OpKind.SUB):
        # SUB's Prepare divides in float32 where ADD's does not: each has its own formula.
        fn = q.sub_params if op.kind is OpKind.SUB else q.add_params
        p = fn(ins[0].quant.scale[0], ins[1].quant.scale[0], y.quant.scale[0])
        return AddRequant(**p, act_min=activation_bounds(op.attrs.clamp, y)[0],
                          act_max=activation_bounds(op.attrs.clamp, y)[1])
    if op.kind is OpKind.SQUARED_DIFFERENCE:  # no fused activation: the int8 range
        p = q.squared_difference_params(ins[0].quant.scale[0], ins[1].quant.scale[0], y.quant.scale[0])
        return AddRequant(**p, act_min=-128, act_max=127)
    if op.kind is OpKind.MUL:
        m, s = q.mul_params(ins[0].quant.scale[0], ins[1].quant.scale[0], y.quant.scale[0])
        return MulRequant(m, s, *activation_bounds(op.attrs.clamp, y))
    if op.kind is OpKind.SOFTMAX:
        # TFLM's int8 softmax writes a fixed 1/256 scale; any other would silently differ.
        if y.quant.scale != (1.0 / 256,) or y.quant.zero_point != (-128,):
            raise ValueError(f"int8 output must have scale 1/256 and zero point -128, "
                             f"got {y.quant.scale[0]:g} and {y.quant.zero_point[0]}")
        return SoftmaxRequant(**q.softmax_params(op.attrs.beta, ins[0].quant.scale[0]))
    return None


def requant_of(g: Graph, op: Op):
    """The op's requantization: the one this pass stored, else computed now (a graph lowered
    without the passes). Lowering reads it here, so the IR dump shows what the firmware uses."""
    return op.requant if op.requant is not None else _params(g, op)


def _checked(g: Graph, i: int, op: Op):
    try:
        return _params(g, op)
    except ValueError as e:  # e.g. a softmax input scale too small for TFLM's fixed point
        raise UsageError(f"{g.source or g.name}: op #{i} {op.kind.value}: "
                         f"quantization parameters out of range ({e})") from None


def compute_requant(g: Graph) -> Graph:
    return g.replace(ops=[dataclasses.replace(op, requant=_checked(g, i, op))
                          for i, op in enumerate(g.ops)])
