"""TFLite converters for elementwise ops: ADD/SUB/MUL, MAXIMUM/MINIMUM, activations, SOFTMAX,
QUANTIZE/DEQUANTIZE."""

from __future__ import annotations

from tflite.BuiltinOperator import BuiltinOperator as B

from arielml.frontends.tflite_ctx import Ctx
from arielml.ir import BinaryAttrs, ClampAttrs, LeakyReluAttrs, Op, OpKind, SoftmaxAttrs


def _binary(ctx: Ctx, kind: OpKind, options: str) -> list[Op]:
    o = ctx.options(options, "FusedActivationFunction")
    attrs = BinaryAttrs(ctx.clamp(o["FusedActivationFunction"]))
    return [Op(kind, ctx.data_inputs(2), ctx.outputs(), attrs)]


def add(ctx: Ctx) -> list[Op]:
    return _binary(ctx, OpKind.ADD, "AddOptions")


def sub(ctx: Ctx) -> list[Op]:
    return _binary(ctx, OpKind.SUB, "SubOptions")


def mul(ctx: Ctx) -> list[Op]:
    return _binary(ctx, OpKind.MUL, "MulOptions")


def maximum(ctx: Ctx) -> list[Op]:
    return [Op(OpKind.MAXIMUM, ctx.data_inputs(2), ctx.outputs(), BinaryAttrs())]


def minimum(ctx: Ctx) -> list[Op]:
    return [Op(OpKind.MINIMUM, ctx.data_inputs(2), ctx.outputs(), BinaryAttrs())]


def _unary(ctx: Ctx, kind: OpKind, attrs=None) -> list[Op]:
    if attrs is None:
        return [Op(kind, ctx.data_inputs(1), ctx.outputs())]
    return [Op(kind, ctx.data_inputs(1), ctx.outputs(), attrs)]


def quantize(ctx: Ctx) -> list[Op]:
    return _unary(ctx, OpKind.QUANTIZE)


def dequantize(ctx: Ctx) -> list[Op]:
    return _unary(ctx, OpKind.DEQUANTIZE)


def logistic(ctx: Ctx) -> list[Op]:
    return _unary(ctx, OpKind.LOGISTIC)


def tanh(ctx: Ctx) -> list[Op]:
    return _unary(ctx, OpKind.TANH)


def hard_swish(ctx: Ctx) -> list[Op]:
    return _unary(ctx, OpKind.HARD_SWISH)


def relu(ctx: Ctx) -> list[Op]:
    return _unary(ctx, OpKind.RELU, ClampAttrs((0.0, float("inf"))))


def relu6(ctx: Ctx) -> list[Op]:
    return _unary(ctx, OpKind.RELU6, ClampAttrs((0.0, 6.0)))


def relu_n1_to_1(ctx: Ctx) -> list[Op]:
    return _unary(ctx, OpKind.CLIP, ClampAttrs((-1.0, 1.0)))


def leaky_relu(ctx: Ctx) -> list[Op]:
    o = ctx.options("LeakyReluOptions", "Alpha")
    return _unary(ctx, OpKind.LEAKY_RELU, LeakyReluAttrs(float(o["Alpha"])))


def softmax(ctx: Ctx) -> list[Op]:
    o = ctx.options("SoftmaxOptions", "Beta")
    return _unary(ctx, OpKind.SOFTMAX, SoftmaxAttrs(float(o["Beta"])))


# Builtin opcode -> converter, for the registry in tflite.py.
CONVERTERS = {
    B.ADD: add,
    B.SUB: sub,
    B.MUL: mul,
    B.MAXIMUM: maximum,
    B.MINIMUM: minimum,
    B.QUANTIZE: quantize,
    B.DEQUANTIZE: dequantize,
    B.LOGISTIC: logistic,
    B.TANH: tanh,
    B.RELU: relu,
    B.RELU6: relu6,
    B.RELU_N1_TO_1: relu_n1_to_1,
    B.LEAKY_RELU: leaky_relu,
    B.HARD_SWISH: hard_swish,
    B.SOFTMAX: softmax,
}
