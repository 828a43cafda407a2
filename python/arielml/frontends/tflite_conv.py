"""TFLite converters for weighted ops and pooling: CONV_2D, DEPTHWISE_CONV_2D,
FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D."""

from __future__ import annotations

from tflite.BuiltinOperator import BuiltinOperator as B

from arielml.frontends.tflite_ctx import Ctx
from arielml.ir import Conv2DAttrs, FullyConnectedAttrs, Op, OpKind, Pool2DAttrs

_CONV_FIELDS = ("Padding", "StrideH", "StrideW", "DilationHFactor", "DilationWFactor",
                "FusedActivationFunction")


def _weighted_inputs(ctx: Ctx) -> tuple[str, ...]:
    names = [ctx.name(0), ctx.name(1)]
    bias = ctx.input(2)
    if bias is not None:
        names.append(bias.name)
    return tuple(names)


def _conv_attrs(ctx: Ctx, o: dict, depth_multiplier: int = 1) -> Conv2DAttrs:
    x, w = ctx.need(0), ctx.need(1)
    if len(w.shape) != 4:
        raise ctx.fail(f"weights must be rank 4, got {list(w.shape)}")
    stride = (o["StrideH"], o["StrideW"])
    dilation = (o["DilationHFactor"], o["DilationWFactor"])
    pad = ctx.padding(o["Padding"], x, (w.shape[1], w.shape[2]), stride, dilation)
    return Conv2DAttrs(stride, dilation, pad, ctx.clamp(o["FusedActivationFunction"]),
                       depth_multiplier)


def conv_2d(ctx: Ctx) -> list[Op]:
    o = ctx.options("Conv2DOptions", *_CONV_FIELDS)
    return [Op(OpKind.CONV_2D, _weighted_inputs(ctx), ctx.outputs(), _conv_attrs(ctx, o))]


def depthwise_conv_2d(ctx: Ctx) -> list[Op]:
    o = ctx.options("DepthwiseConv2DOptions", *_CONV_FIELDS, "DepthMultiplier")
    x, w = ctx.need(0), ctx.need(1)
    # Old converters wrote depth_multiplier 0 or inconsistent values: the shapes decide.
    mult = w.shape[3] // x.shape[3] if len(w.shape) == 4 and len(x.shape) == 4 and x.shape[3] else 0
    if mult < 1:
        raise ctx.fail(f"weights {list(w.shape)} do not fit input {list(x.shape)}")
    attrs = _conv_attrs(ctx, o, mult)
    return [Op(OpKind.DEPTHWISE_CONV_2D, _weighted_inputs(ctx), ctx.outputs(), attrs)]


def fully_connected(ctx: Ctx) -> list[Op]:
    o = ctx.options("FullyConnectedOptions", "FusedActivationFunction", "WeightsFormat",
                    "KeepNumDims")
    if o["WeightsFormat"] != 0:
        raise ctx.fail("shuffled weights format is not supported")
    attrs = FullyConnectedAttrs(ctx.clamp(o["FusedActivationFunction"]), bool(o["KeepNumDims"]))
    return [Op(OpKind.FULLY_CONNECTED, _weighted_inputs(ctx), ctx.outputs(), attrs)]


def _pool(ctx: Ctx, kind: OpKind) -> list[Op]:
    o = ctx.options("Pool2DOptions", "Padding", "StrideH", "StrideW", "FilterHeight",
                    "FilterWidth", "FusedActivationFunction")
    filt, stride = (o["FilterHeight"], o["FilterWidth"]), (o["StrideH"], o["StrideW"])
    pad = ctx.padding(o["Padding"], ctx.need(0), filt, stride)
    attrs = Pool2DAttrs(filt, stride, pad, ctx.clamp(o["FusedActivationFunction"]))
    return [Op(kind, (ctx.name(0),), ctx.outputs(), attrs)]


def average_pool_2d(ctx: Ctx) -> list[Op]:
    return _pool(ctx, OpKind.AVERAGE_POOL_2D)


def max_pool_2d(ctx: Ctx) -> list[Op]:
    return _pool(ctx, OpKind.MAX_POOL_2D)


# Builtin opcode -> converter, for the registry in tflite.py.
CONVERTERS = {
    B.CONV_2D: conv_2d,
    B.DEPTHWISE_CONV_2D: depthwise_conv_2d,
    B.FULLY_CONNECTED: fully_connected,
    B.AVERAGE_POOL_2D: average_pool_2d,
    B.MAX_POOL_2D: max_pool_2d,
}
