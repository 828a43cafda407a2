"""float32 elementwise math: ABS, NEG, SQUARE, SQRT, RSQRT, EXP, LOG, SIN, COS (TFLM's
elementwise.cc, exp.cc, neg.cc), one kernel (`math_f32::math_f32`) over a rank-4 view,
tiled by NHWC rows and channels like every elementwise op.

TFLM also has int8 ABS and RSQRT (and int16); they are refused here with that reason."""

from __future__ import annotations

from arielml.errors import UsageError
from arielml.ir import DType, Graph, Op, OpKind
from arielml.lower import host_kernels as kernels
from arielml.lower.base import KCRATE, Lowered, RustCx, shape4, shape4_lit, tensors

_VARIANT = {OpKind.ABS: "Abs", OpKind.NEG: "Neg", OpKind.SQUARE: "Square", OpKind.SQRT: "Sqrt",
            OpKind.RSQRT: "Rsqrt", OpKind.EXP: "Exp", OpKind.LOG: "Log", OpKind.SIN: "Sin",
            OpKind.COS: "Cos"}


class MathF32(Lowered):
    kinds = tuple(_VARIANT)

    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "MathF32":
        (x,), y = tensors(g, op)
        if x.dtype is not DType.FLOAT32 or y.dtype is not DType.FLOAT32:
            raise UsageError(f"{g.source or g.name}: op #{i} {op.kind.value} on {x.dtype.value} has no "
                             f"kernel here (float32 only)")
        if len(y.shape) > 4:
            raise UsageError(f"{g.source or g.name}: op #{i} {op.kind.value} on a rank-{len(y.shape)} "
                             f"tensor (elementwise kernels take rank <= 4)")
        me = cls(i, op, (op.inputs[0],), op.outputs[0], y.shape, y.dtype.numpy)
        me.s4 = shape4(y.shape)
        me.variant = _VARIANT[op.kind]
        return me

    def host(self, env, tile, out):
        x = env[self.inputs[0]].reshape(self.s4)
        prev = None if out is None else out.reshape(self.s4)
        return kernels.unary_f32(self.variant.lower(), x, tile=tile, out=prev).reshape(self.out_shape)

    def rust(self, cx: RustCx, tile) -> str:
        return (f"{KCRATE}::math_f32::math_f32({KCRATE}::math_f32::MathF32::{self.variant}, "
                f"{shape4_lit(self.s4)}, {cx.input(self.inputs[0])}, {cx.output(self.output)}, "
                f"{cx.tile(tile)});")
