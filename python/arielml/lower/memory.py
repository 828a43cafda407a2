"""RESHAPE, SQUEEZE, EXPAND_DIMS: the bytes do not change, only the shape; a copy. And the
variables' READ/ASSIGN, copies too."""

from __future__ import annotations

from arielml.errors import UsageError
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


class VariableCopy(Lowered):
    """READ_VARIABLE (variable -> tensor) and ASSIGN_VARIABLE (tensor -> variable): TFLM
    copies the bytes (micro_resource_variable.cc Read/Assign), and so does the kernel.
    The variable side is addressed in the persistent state region (codegen), not the arena."""

    kinds = (OpKind.READ_VARIABLE, OpKind.ASSIGN_VARIABLE)

    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "VariableCopy":
        (x, *_), y = tensors(g, op)
        if x.is_const:
            raise UsageError(f"{g.source or g.name}: {op.kind.value} of a constant is not supported")
        return cls(i, op, (op.inputs[0],), op.outputs[0], y.shape, y.dtype.numpy)

    def host(self, env, tile, out):
        return env[self.inputs[0]].reshape(self.out_shape).copy()

    def rust(self, cx: RustCx, tile) -> str:
        return (f"for (o, i) in {cx.output(self.output)}.iter().zip({cx.input(self.inputs[0])}) "
                f"{{ o.set(*i); }}")
