"""SOFTMAX over the last axis (rows are all leading dims flattened)."""

from __future__ import annotations

import numpy as np

from arielml.ir import DType, Graph, Op, OpKind
from arielml.lower import host_kernels as kernels
from arielml.lower.base import Lowered, RustCx, f32_lit, param_words, params_lit, tensors


class Softmax(Lowered):
    kinds = (OpKind.SOFTMAX,)

    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "Softmax":
        (x,), y = tensors(g, op)
        me = cls(i, op, (op.inputs[0],), op.outputs[0], y.shape, y.dtype.numpy)
        me.int8 = x.dtype is DType.INT8
        me.depth = int(y.shape[-1])
        me.rows = int(np.prod(y.shape)) // me.depth
        me.beta = op.attrs.beta
        me.rq = op.requant
        return me

    @property
    def words(self) -> list[int]:
        """int8: SoftmaxParams' words, what the host kernel and the firmware both get."""
        rq = self.rq
        return param_words("SoftmaxParams", rows=self.rows, depth=self.depth, input_multiplier=rq.input_multiplier,
                           input_left_shift=rq.input_left_shift, diff_min=rq.diff_min)

    def host(self, env, tile, out):
        x = env[self.inputs[0]]
        if self.int8:
            return kernels.softmax_s8_words(x, self.words, tile=tile, out=out)
        return kernels.softmax_f32(x, beta=self.beta, tile=tile, out=out)

    def rust(self, cx: RustCx, tile) -> str:
        data = f"{cx.input(self.inputs[0])}, {cx.output(self.output)}, {cx.tile(tile)}"
        if not self.int8:
            return f"softmax::softmax_f32({self.rows}, {self.depth}, {f32_lit(self.beta)}, {data});"
        return f"softmax::softmax_s8(&{params_lit('SoftmaxParams', self.words)}, {data});"
