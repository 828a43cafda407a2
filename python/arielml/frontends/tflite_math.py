"""TFLite converters for arithmetic and math ops beyond ADD/SUB/MUL: DIV, SQUARED_DIFFERENCE,
and the float32 elementwise functions ABS, NEG, SQUARE, SQRT, RSQRT, EXP, LOG, SIN, COS."""

from __future__ import annotations

from tflite.BuiltinOperator import BuiltinOperator as B

from arielml.frontends.tflite_ctx import Ctx
from arielml.ir import BinaryAttrs, Op, OpKind


def div(ctx: Ctx) -> list[Op]:
    o = ctx.options("DivOptions", "FusedActivationFunction")
    attrs = BinaryAttrs(ctx.clamp(o["FusedActivationFunction"]))
    return [Op(OpKind.DIV, ctx.data_inputs(2), ctx.outputs(), attrs)]


def squared_difference(ctx: Ctx) -> list[Op]:
    return [Op(OpKind.SQUARED_DIFFERENCE, ctx.data_inputs(2), ctx.outputs(), BinaryAttrs())]


def _math(kind: OpKind):
    def convert(ctx: Ctx) -> list[Op]:
        return [Op(kind, ctx.data_inputs(1), ctx.outputs())]
    convert.__name__ = kind.value.lower()
    return convert


CONVERTERS = {
    B.DIV: div,
    B.SQUARED_DIFFERENCE: squared_difference,
    **{getattr(B, k.value): _math(k) for k in (
        OpKind.ABS, OpKind.NEG, OpKind.SQUARE, OpKind.SQRT, OpKind.RSQRT, OpKind.EXP, OpKind.LOG,
        OpKind.SIN, OpKind.COS)},
}
