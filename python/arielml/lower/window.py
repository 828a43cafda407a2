"""CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, MAX_POOL_2D: sliding windows over NHWC."""

from __future__ import annotations


from arielml.ir import Conv2DAttrs, DType, Graph, Op, OpKind, Pool2DAttrs
from arielml.lower import host_kernels as kernels
from arielml.lower import packing
from arielml.lower.base import Lowered, RustCx, f32_lit, param_words, params_lit, shape4_lit, tensors, zp
from arielml.passes.requant import activation_bounds


def _window_lit(x_shape, f_shape, y_shape, attrs) -> str:
    dil = attrs.dilation if isinstance(attrs, Conv2DAttrs) else (1, 1)
    return (f"Window2d {{ input: {shape4_lit(x_shape)}, filter: {shape4_lit(f_shape)}, "
            f"output: {shape4_lit(y_shape)}, stride_h: {attrs.stride[0]}, stride_w: {attrs.stride[1]}, "
            f"dilation_h: {dil[0]}, dilation_w: {dil[1]}, pad_top: {attrs.padding.top}, "
            f"pad_left: {attrs.padding.left} }}")


class Conv(Lowered):
    """int8 per-channel or float32 CONV_2D / DEPTHWISE_CONV_2D."""

    kinds = (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D)


    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "Conv":
        (x, w, *rest), y = tensors(g, op)
        me = cls(i, op, (op.inputs[0],), op.outputs[0], y.shape, y.dtype.numpy)
        me.int8 = x.dtype is DType.INT8
        me.depthwise = op.kind is OpKind.DEPTHWISE_CONV_2D
        me.a: Conv2DAttrs = op.attrs
        me.x_shape, me.w_shape = x.shape, w.shape
        me.consts["filter"] = w.data
        if rest:
            me.consts["bias"] = rest[0].data
        if me.int8:
            me.take_channel_requant(op)
            me.offsets = (-zp(x), zp(y))
        else:
            me.act = op.attrs.clamp
        me.plan = None
        return me

    @property
    def words(self) -> list[int]:
        """int8: the words of the kernel's parameter struct (a packed kernel's once
        specialized), from `offsets` and `act`: what the host kernel and the firmware get."""
        q = dict(output_offset=self.offsets[1], act_min=self.act[0], act_max=self.act[1])
        if self.plan is not None and self.depthwise:
            return param_words("GemmDepthwise", pad_value=-self.offsets[0], **q)
        if self.plan is not None:
            return param_words("GemmConv", kp=self.plan.kp, pad_value=-self.offsets[0], direct=int(self.direct), **q)
        if self.depthwise:
            return param_words("DepthwiseParams", depth_multiplier=self.a.depth_multiplier,
                               input_offset=self.offsets[0], **q)
        return param_words("Conv2dParams", input_offset=self.offsets[0], **q)

    def specialize(self, family: str) -> None:
        """int8 CONV_2D (ungrouped) and DEPTHWISE_CONV_2D (depth multiplier 1) run the packed
        kernels: weights repacked for `family`, the input offset folded into the bias."""
        if not self.int8:
            return
        c, a, off = self.consts, self.a, self.offsets[0]
        if self.depthwise:
            if a.depth_multiplier != 1 or self.x_shape[-1] != self.out_shape[-1]:
                return
            self.plan = packing.plan_depthwise(c["filter"], c.get("bias"), off, c["shift"], family)
            self.scratch_words = packing.dw_scratch_words(self.x_shape[-1])
        else:
            if self.w_shape[-1] != self.x_shape[-1]:
                return  # grouped filters
            self.plan = packing.plan_gemm(c["filter"].reshape(self.w_shape[0], -1), c.get("bias"), off,
                                          c["shift"], family, "conv")
            self.direct = (self.w_shape[1:3] == (1, 1) and a.padding.top == a.padding.left == 0
                           and self.plan.kp == self.x_shape[-1])
            self.scratch_words = self.plan.scratch_words(self.direct)
        del c["filter"]
        c.pop("bias", None)
        c["weights"], c["bias"] = self.plan.weights, self.plan.bias

    def _geom(self):
        a = self.a
        return dict(out_hw=self.out_shape[1:3], stride=a.stride, dilation=a.dilation,
                    pad=(a.padding.top, a.padding.left))

    def _host_packed(self, x, tile, out):
        c = self.consts
        fn = kernels.gemm_depthwise_s8_words if self.depthwise else kernels.gemm_conv2d_s8_words
        return fn(x, self.plan, c["multiplier"], c["shift"], self.words, filter_shape=self.w_shape, tile=tile,
                  out=out, **self._geom())

    def _rust_packed(self, cx: RustCx, tile) -> str:
        p = self.plan
        win = _window_lit(self.x_shape, self.w_shape, self.out_shape, self.a)
        io = f"{cx.input(self.inputs[0])}, {cx.output(self.output)}, {cx.tile(tile)}"
        fam = packing.FAMILY_TYPES[p.family]
        fast = str(p.fast_requant).lower()
        if self.depthwise:
            kh, kw = packing.dw_specialised(self.w_shape[1], self.w_shape[2])
            call, ps = f"gemm::depthwise_s8::<{fam}, {kh}, {kw}, {fast}>", "GemmDepthwise"
        else:
            call, ps = f"gemm::conv_s8::<{fam}, {p.mr}, {p.nr}, {fast}>", "GemmConv"
        return (f"{call}(&{params_lit(ps, self.words, window=win)}, {self.packed_lit(cx)}, {io}, "
                f"{cx.scratch(self.scratch_words)});")

    def host(self, env, tile, out):
        if self.plan is not None:
            return self._host_packed(env[self.inputs[0]], tile, out)
        a, c = self.a, self.consts
        common = dict(out_hw=self.out_shape[1:3], stride=a.stride, dilation=a.dilation,
                      pad=(a.padding.top, a.padding.left), act=self.act, tile=tile, out=out)
        x = env[self.inputs[0]]
        if not self.int8:
            return kernels.conv2d_f32(x, c["filter"], c.get("bias"), depthwise=self.depthwise,
                                      depth_multiplier=a.depth_multiplier, **common)
        return kernels.conv2d_s8_words("depthwise" if self.depthwise else "conv", x, c["filter"], c.get("bias"),
                                       c["multiplier"], c["shift"], self.words, tile=tile, out=out, **self._geom())

    def rust(self, cx: RustCx, tile) -> str:
        if self.plan is not None:
            return self._rust_packed(cx, tile)
        win = _window_lit(self.x_shape, self.w_shape, self.out_shape, self.a)
        c = self.consts
        bias = f"Some({cx.const(self.key('bias'), c['bias'])})" if "bias" in c else "None"
        data = (f"{cx.input(self.inputs[0])}, {cx.const(self.key('filter'), c['filter'])}, {bias}, "
                f"{cx.output(self.output)}, {cx.tile(tile)}")
        dm = f"depth_multiplier: {self.a.depth_multiplier}, " if self.depthwise else ""
        if not self.int8:
            fn, ps = ("depthwise::depthwise_conv2d_f32", "DepthwiseF32Params") if self.depthwise \
                else ("conv::conv2d_f32", "Conv2dF32Params")
            return (f"{fn}(&{ps} {{ window: {win}, {dm}act_min: {f32_lit(self.act[0])}, "
                    f"act_max: {f32_lit(self.act[1])} }}, {data});")
        fn, ps = ("depthwise::depthwise_conv2d_s8", "DepthwiseParams") if self.depthwise \
            else ("conv::conv2d_s8", "Conv2dParams")
        return f"{fn}(&{params_lit(ps, self.words, window=win)}, {self.per_channel_lit(cx)}, {data});"


class Pool(Lowered):
    kinds = (OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D)

    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "Pool":
        (x,), y = tensors(g, op)
        me = cls(i, op, (op.inputs[0],), op.outputs[0], y.shape, y.dtype.numpy)
        me.a: Pool2DAttrs = op.attrs
        me.kind = "avg" if op.kind is OpKind.AVERAGE_POOL_2D else "max"
        me.int8 = x.dtype is DType.INT8
        me.x_shape = x.shape
        me.act = activation_bounds(op.attrs.clamp, y) if me.int8 else op.attrs.clamp
        return me

    @property
    def words(self) -> list[int]:
        """int8: PoolParams' words, what the host kernel and the firmware both get."""
        return param_words("PoolParams", act_min=self.act[0], act_max=self.act[1])

    def host(self, env, tile, out):
        a = self.a
        geom = dict(filter_hw=a.filter, out_hw=self.out_shape[1:3], stride=a.stride,
                    pad=(a.padding.top, a.padding.left), tile=tile, out=out)
        if self.int8:
            return kernels.pool_s8_words(self.kind, env[self.inputs[0]], self.words, **geom)
        return kernels.pool(self.kind, env[self.inputs[0]], act=self.act, **geom)

    def rust(self, cx: RustCx, tile) -> str:
        f_shape = (1, self.a.filter[0], self.a.filter[1], 1)
        win = _window_lit(self.x_shape, f_shape, self.out_shape, self.a)
        name = "average_pool" if self.kind == "avg" else "max_pool"
        data = f"{cx.input(self.inputs[0])}, {cx.output(self.output)}, {cx.tile(tile)}"
        if self.int8:
            return f"pooling::{name}_s8(&{params_lit('PoolParams', self.words, window=win)}, {data});"
        lo, hi = f32_lit(self.act[0]), f32_lit(self.act[1])
        return f"pooling::{name}_f32(&PoolF32Params {{ window: {win}, act_min: {lo}, act_max: {hi} }}, {data});"
