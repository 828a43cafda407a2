"""RESHAPE, SQUEEZE, EXPAND_DIMS: the bytes do not change, only the shape; a copy."""

from __future__ import annotations

from arielml.ir import Graph, Op, OpKind
from arielml.lower.base import Lowered, RustCx, tensors


class Reshape(Lowered):
    kinds = (OpKind.RESHAPE, OpKind.SQUEEZE, OpKind.EXPAND_DIMS)

    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "Reshape":
        (x, *_), y = tensors(g, op)
        return cls(i, op, (op.inputs[0],), op.outputs[0], y.shape, y.dtype.numpy)

    def host(self, env, tile, out):
        return env[self.inputs[0]].reshape(self.out_shape).copy()

    def rust(self, cx: RustCx, tile) -> str:
        if cx.in_place(self.output, self.inputs[0]):
            return "/* in place: the output is the input's bytes */"
        return (f"for (o, i) in {cx.output(self.output)}.iter().zip({cx.input(self.inputs[0])}) "
                f"{{ o.set(*i); }}")
