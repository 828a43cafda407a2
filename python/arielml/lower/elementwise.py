"""ADD, SUB, MUL, SQUARED_DIFFERENCE, MAXIMUM, MINIMUM (with the broadcasting real models
use), int8 and float32; DIV, float32 only (TFLM's DIV has no int8 kernel).

MAXIMUM and MINIMUM compare the raw values, quantized or not, as TFLM's kernel does (the
converter gives inputs and output one quantization): `a > b ? a : b`, `a < b ? a : b`, so
a NaN compares as TFLM's does too."""

from __future__ import annotations

import dataclasses

from arielml.errors import UsageError
from arielml.ir import AddRequant, DType, Graph, MulRequant, Op, OpKind
from arielml.lower import host_kernels as kernels
from arielml.lower.base import Lowered, RustCx, f32_lit, params_lit, shape4_lit, tensors, zp
from arielml.passes.requant import requant_of


class Binary(Lowered):
    kinds = (OpKind.ADD, OpKind.SUB, OpKind.MUL, OpKind.SQUARED_DIFFERENCE, OpKind.DIV,
             OpKind.MAXIMUM, OpKind.MINIMUM)
    _NAMES = {OpKind.ADD: "add", OpKind.SUB: "sub", OpKind.MUL: "mul", OpKind.MAXIMUM: "maximum",
              OpKind.MINIMUM: "minimum", OpKind.SQUARED_DIFFERENCE: "squared_difference",
              OpKind.DIV: "div"}
    _F32_KIND = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div",
                 "squared_difference": "SquaredDifference"}
    _SELECT = ("maximum", "minimum")  # no arithmetic, no parameters: one generic kernel

    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "Binary":
        (a, b), y = tensors(g, op)
        me = cls(i, op, (), op.outputs[0], y.shape, y.dtype.numpy)
        me.name = cls._NAMES[op.kind]
        me.int8 = a.dtype is DType.INT8
        if me.int8 and op.kind is OpKind.DIV:
            raise UsageError(f"{g.source or g.name}: op #{i} DIV on int8 has no kernel (TFLM's DIV "
                             f"takes float32)")
        me.shapes = (a.shape, b.shape)
        # A constant operand (a bias-like vector) lives in flash, not in the arena.
        names = []
        for role, t, name in (("a", a, op.inputs[0]), ("b", b, op.inputs[1])):
            if t.is_const:
                me.consts[role] = t.data
            else:
                names.append(name)
        me.inputs = tuple(names)
        # (constant key or None, tensor name): a tensor may itself be called "a".
        me.roles = tuple((key if t.is_const else None, name)
                         for key, t, name in (("a", a, op.inputs[0]), ("b", b, op.inputs[1])))
        if me.name in cls._SELECT:
            me.params, me.act = {}, (-128, 127) if me.int8 else op.attrs.clamp
        elif me.int8:
            me.params = cls._int8_params(g, op, a, b, y)
            me.act = (me.params.pop("act_min"), me.params.pop("act_max"))
        else:
            me.act = op.attrs.clamp
        return me

    @staticmethod
    def _int8_params(g: Graph, op: Op, a, b, y) -> dict:
        """The kernel's parameters: offsets from the tensors, the rest from passes.requant."""
        base = {"input1_offset": -zp(a), "input2_offset": -zp(b), "output_offset": zp(y)}
        rq = requant_of(g, op)
        if isinstance(rq, MulRequant):
            return {**base, "output_multiplier": rq.multiplier, "output_shift": rq.shift,
                    "act_min": rq.act_min, "act_max": rq.act_max}
        assert isinstance(rq, AddRequant), rq
        return {**base, **dataclasses.asdict(rq)}

    @property
    def words(self) -> list[int]:
        """int8: ArithmeticParams' words, what the host kernel and the firmware both get."""
        return kernels.arithmetic_words(self.params, self.act)

    def _operand(self, env, role: tuple):
        key, name = role
        return self.consts[key] if key else env[name]

    def host(self, env, tile, out):
        a, b = (self._operand(env, r) for r in self.roles)
        if self.int8:
            return kernels.binary_s8_words(self.name, a, b, self.words, tile=tile, out=out)
        return kernels.binary_f32(self.name, a, b, act=self.act, tile=tile, out=out)

    def rust(self, cx: RustCx, tile) -> str:
        for k, (key, name) in enumerate(self.roles):
            if key is None and cx.in_place(self.output, name):
                okey, oname = self.roles[1 - k]
                other = cx.const(self.key(okey), self.consts[okey]) if okey else cx.input(oname)
                return self.rust_in_place(cx, tile, cx.output(self.output), other, k == 0)
        ops = [cx.const(self.key(k), self.consts[k]) if k else cx.input(n) for k, n in self.roles]
        shapes = (f"BinaryShapes {{ input1: {shape4_lit(self.shapes[0])}, input2: {shape4_lit(self.shapes[1])}, "
                  f"output: {shape4_lit(self.out_shape)} }}")
        data = f"&{shapes}, {ops[0]}, {ops[1]}, {cx.output(self.output)}, {cx.tile(tile)}"
        if self.name in self._SELECT:
            return f"elementwise::{self.name}({data});"
        if not self.int8:
            kind = self._F32_KIND[self.name]
            return (f"elementwise::binary_f32(BinaryF32::{kind}, ({f32_lit(self.act[0])}, "
                    f"{f32_lit(self.act[1])}), {data});")
        return f"elementwise::{self.name}_s8(&{params_lit('ArithmeticParams', self.words)}, {data});"

    def rust_in_place(self, cx: RustCx, tile, io: str, other: str, first: bool) -> str:
        """int8 ADD/SUB/MUL without broadcasting, writing over one operand: `io` (operand 1
        when `first`) is an output view of it, `other` the other operand's input view."""
        kind = {"add": "Add", "sub": "Sub", "mul": "Mul"}[self.name]
        shapes = (f"BinaryShapes {{ input1: {shape4_lit(self.shapes[0])}, input2: {shape4_lit(self.shapes[1])}, "
                  f"output: {shape4_lit(self.out_shape)} }}")
        return (f"elementwise::binary_s8_in_place(BinaryS8::{kind}, &{params_lit('ArithmeticParams', self.words)}, "
                f"&{shapes}, {io}, {other}, {str(first).lower()}, {cx.tile(tile)});")

