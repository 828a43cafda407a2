"""FULLY_CONNECTED: input flattened to (batches, depth), filter (units, depth)."""

from __future__ import annotations

import numpy as np

from arielml.ir import DType, Graph, Op, OpKind
from arielml.lower import host_kernels as kernels
from arielml.lower import packing
from arielml.lower.base import Lowered, RustCx, f32_lit, param_words, params_lit, tensors, zp


class FullyConnected(Lowered):
    kinds = (OpKind.FULLY_CONNECTED,)

    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "FullyConnected":
        (x, w, *rest), y = tensors(g, op)
        me = cls(i, op, (op.inputs[0],), op.outputs[0], y.shape, y.dtype.numpy)
        me.int8 = x.dtype is DType.INT8
        me.units, me.depth = int(w.shape[0]), int(w.shape[1])
        me.batches = int(np.prod(x.shape)) // me.depth
        me.consts["filter"] = w.data
        if rest:
            me.consts["bias"] = rest[0].data
        if me.int8:
            me.take_channel_requant(op)
            me.offsets = (-zp(x), -zp(w), zp(y))
        else:
            me.act = op.attrs.clamp
        me.plan = None
        return me

    def specialize(self, family: str) -> None:
        """int8 with a zero filter offset (as TFLM requires) runs the packed kernel."""
        if not self.int8 or self.offsets[1] != 0:
            return
        c = self.consts
        self.plan = packing.plan_gemm(c.pop("filter"), c.pop("bias", None), self.offsets[0], c["shift"],
                                      family, "fc")
        c["weights"], c["bias"] = self.plan.weights, self.plan.bias
        self.scratch_words = self.plan.scratch_words(self.plan.kp == self.depth)

    @property
    def words(self) -> list[int]:
        """int8: FullyConnectedParams' words (GemmFc's once specialized), from the shapes,
        `offsets` and `act`: what the host kernel and the firmware both get."""
        q = dict(batches=self.batches, depth=self.depth, units=self.units, output_offset=self.offsets[2],
                 act_min=self.act[0], act_max=self.act[1])
        if self.plan is not None:
            return param_words("GemmFc", kp=self.plan.kp, **q)
        return param_words("FullyConnectedParams", input_offset=self.offsets[0], filter_offset=self.offsets[1], **q)

    def host(self, env, tile, out):
        c = self.consts
        x = env[self.inputs[0]].reshape(self.batches, self.depth)
        prev = None if out is None else out.reshape(self.batches, self.units)
        if self.plan is not None:
            r = kernels.gemm_fully_connected_s8_words(x, self.plan, c["multiplier"], c["shift"], self.words,
                                                      tile=tile, out=prev)
        elif self.int8:
            r = kernels.fully_connected_s8_words(x, c["filter"], c.get("bias"), c["multiplier"], c["shift"],
                                                 self.words, tile=tile, out=prev)
        else:
            r = kernels.fully_connected_f32(x, c["filter"], c.get("bias"), act=self.act, tile=tile, out=prev)
        return r.reshape(self.out_shape)

    def rust(self, cx: RustCx, tile) -> str:
        c = self.consts
        if self.plan is not None:
            p = self.plan
            return (f"gemm::fully_connected_s8::<{packing.FAMILY_TYPES[p.family]}, {p.mr}, {p.nr}, "
                    f"{str(p.fast_requant).lower()}>(&{params_lit('GemmFc', self.words)}, {self.packed_lit(cx)}, "
                    f"{cx.input(self.inputs[0])}, {cx.output(self.output)}, {cx.tile(tile)}, "
                    f"{cx.scratch(self.scratch_words)});")
        bias = f"Some({cx.const(self.key('bias'), c['bias'])})" if "bias" in c else "None"
        dims = f"batches: {self.batches}, depth: {self.depth}, units: {self.units}"
        data = (f"{cx.input(self.inputs[0])}, {cx.const(self.key('filter'), c['filter'])}, {bias}, "
                f"{cx.output(self.output)}, {cx.tile(tile)}")
        if not self.int8:
            return (f"fully_connected::fully_connected_f32(&FullyConnectedF32Params {{ {dims}, "
                    f"act_min: {f32_lit(self.act[0])}, act_max: {f32_lit(self.act[1])} }}, {data});")
        q = self.per_channel_lit(cx)
        return f"fully_connected::fully_connected_s8(&{params_lit('FullyConnectedParams', self.words)}, {q}, {data});"
