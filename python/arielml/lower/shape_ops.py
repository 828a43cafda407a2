"""The rank <= 5 ops: PAD, CONCATENATION, TRANSPOSE, STRIDED_SLICE, SPLIT (several outputs)
and MEAN, int8 and float32.

None of them is in partition's split sets, so each gets one task whose tile is the whole
output (`base.nd_tile` turns that into the kernel's whole rank-5 output). CONCATENATION
and SPLIT are one kernel call per input / output, all in that one task.
"""

from __future__ import annotations

import math

import numpy as np

from arielml.errors import UsageError
from arielml.ir import NO_CLAMP, DType, Graph, Op, OpKind
from arielml.ir import quant
from arielml.lower import host_kernels as kernels
from arielml.lower.base import (
    KCRATE, Lowered, RustCx, dims_lit, f32_lit, nd_tile, params_lit, shape5_lit, tensors, zp,
)

MEM = f"{KCRATE}::memory"
RED = f"{KCRATE}::reduce"


def _axis5(axis: int, rank: int) -> int:
    return axis % rank + 5 - rank


def _check_dtype(g: Graph, op: Op, *ts) -> bool:
    """True for int8, False for float32; anything else has no kernel."""
    kinds = {t.dtype for t in ts}
    if kinds not in ({DType.INT8}, {DType.FLOAT32}):
        raise UsageError(f"{g.source or g.name}: {op.kind.value} on "
                         f"{'/'.join(sorted(k.value for k in kinds))} has no kernel")
    if len(ts[0].shape) > 5:
        raise UsageError(f"{g.source or g.name}: {op.kind.value} on rank {len(ts[0].shape)} (max 5)")
    return DType.INT8 in kinds


def _check_copy(g: Graph, op: Op, x, *ys) -> bool:
    """A data-movement op: int8 or float32, and an int8 output keeps the input's
    quantization (the kernel copies bytes, it does not requantize). True for int8."""
    int8 = _check_dtype(g, op, x, *ys)
    if int8 and any(x.quant != y.quant for y in ys):
        raise UsageError(f"{g.source or g.name}: int8 {op.kind.value} must keep its input's quantization")
    return int8


def _per_tensor_requant(x, y) -> list[int] | None:
    """Requantize params for an int8 input quantized unlike the output, else None."""
    if x.quant is None or y.quant is None or x.quant == y.quant:
        return None
    if len(x.quant.scale) != 1 or len(y.quant.scale) != 1:
        raise UsageError(f"{x.name}: per-channel quantized activations are not supported")
    return quant.requantize_op_params(x.quant.scale[0], zp(x), y.quant.scale[0], zp(y))


def _scalar_lit(value: float, int8: bool) -> str:
    return f"{int(value)}_i8" if int8 else f32_lit(value)


class _ShapeOp(Lowered):
    def _tile(self, tile, kernel_shape=None):
        shape = self.kernel_out if kernel_shape is None else kernel_shape
        return nd_tile(self.op.kind, self.out_shape, shape, tile)

    def _prev(self, out, shape=None):
        return None if out is None else out.reshape(self.kernel_out if shape is None else shape)


class Pad(_ShapeOp):
    kinds = (OpKind.PAD,)

    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "Pad":
        (x,), y = tensors(g, op)
        me = cls(i, op, (op.inputs[0],), op.outputs[0], y.shape, y.dtype.numpy)
        me.int8 = _check_copy(g, op, x, y)
        me.x_shape, me.kernel_out = x.shape, y.shape
        me.pads = tuple((int(a), int(b)) for a, b in op.attrs.pads)
        me.value = op.attrs.value
        if min(min(p) for p in me.pads) < 0:
            raise UsageError(f"{g.source or g.name}: negative padding is not supported")
        return me

    def host(self, env, tile, out):
        x = env[self.inputs[0]].reshape(self.x_shape)
        return kernels.pad(x, self.pads, self.value, tile=self._tile(tile), out=self._prev(out))

    def rust(self, cx: RustCx, tile) -> str:
        lead = [0] * (5 - len(self.x_shape))
        before = lead + [a for a, _ in self.pads]
        p = (f"{MEM}::PadParams {{ input: {shape5_lit(self.x_shape)}, output: {shape5_lit(self.out_shape)}, "
             f"before: {dims_lit(before)} }}")
        return (f"{MEM}::pad(&{p}, {_scalar_lit(self.value, self.int8)}, {cx.input(self.inputs[0])}, "
                f"{cx.output(self.output)}, {cx.tile(self._tile(tile))});")


class Transpose(_ShapeOp):
    kinds = (OpKind.TRANSPOSE,)

    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "Transpose":
        (x,), y = tensors(g, op)
        me = cls(i, op, (op.inputs[0],), op.outputs[0], y.shape, y.dtype.numpy)
        me.int8 = _check_copy(g, op, x, y)
        me.x_shape, me.kernel_out = x.shape, y.shape
        rank = len(x.shape)
        me.perm = tuple(int(p) % rank for p in op.attrs.perm)
        lead = 5 - rank
        me.perm5 = tuple(range(lead)) + tuple(p + lead for p in me.perm)
        return me

    def host(self, env, tile, out):
        x = env[self.inputs[0]].reshape(self.x_shape)
        return kernels.transpose(x, self.perm, tile=self._tile(tile), out=self._prev(out))

    def rust(self, cx: RustCx, tile) -> str:
        p = (f"{MEM}::TransposeParams {{ input: {shape5_lit(self.x_shape)}, "
             f"output: {shape5_lit(self.out_shape)}, perm: {dims_lit(self.perm5)} }}")
        return (f"{MEM}::transpose(&{p}, {cx.input(self.inputs[0])}, {cx.output(self.output)}, "
                f"{cx.tile(self._tile(tile))});")


class StridedSlice(_ShapeOp):
    """Attributes are resolved (frontends): output index k along dim d reads input index
    begin[d] + k * strides[d] for k < ceil((end[d] - begin[d]) / strides[d]); shrunk dims
    keep size 1 in the kernel's output shape (the same flat layout)."""

    kinds = (OpKind.STRIDED_SLICE,)


    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "StridedSlice":
        (x,), y = tensors(g, op)
        me = cls(i, op, (op.inputs[0],), op.outputs[0], y.shape, y.dtype.numpy)
        me.int8 = _check_copy(g, op, x, y)
        a = op.attrs
        me.x_shape = x.shape
        me.start = [int(b) for b in a.begin]
        me.stride = [int(s) for s in a.strides]
        me.kernel_out = tuple(max(0, -((b - int(e)) // s)) for b, e, s in zip(me.start, a.end, me.stride))
        if math.prod(me.kernel_out) != math.prod(y.shape):
            raise UsageError(f"{g.source or g.name}: STRIDED_SLICE attributes give "
                             f"{list(me.kernel_out)}, output is {list(y.shape)}")
        return me

    def host(self, env, tile, out):
        x = env[self.inputs[0]].reshape(self.x_shape)
        if math.prod(self.kernel_out) == 0:
            return np.zeros(self.out_shape, self.out_dtype)
        # kernels.strided_slice resolves TFLite's raw begin/end: hand it resolved ones
        # (an exclusive end of -1 for a negative stride is its masked end).
        end, end_mask = [], 0
        for d, (b, s, n) in enumerate(zip(self.start, self.stride, self.kernel_out)):
            e = b + n * s
            if e < 0:
                end_mask |= 1 << d
            end.append(e)
        r = kernels.strided_slice(x, self.start, end, self.stride, end_mask=end_mask,
                                  tile=self._tile(tile), out=self._prev(out))
        return r.reshape(self.out_shape)

    def rust(self, cx: RustCx, tile) -> str:
        lead = 5 - len(self.x_shape)
        p = (f"{MEM}::SliceParams {{ input: {shape5_lit(self.x_shape)}, "
             f"output: {shape5_lit(self.kernel_out)}, start: {dims_lit([0] * lead + self.start)}, "
             f"stride: {dims_lit([1] * lead + self.stride)} }}")
        return (f"{MEM}::strided_slice(&{p}, {cx.input(self.inputs[0])}, {cx.output(self.output)}, "
                f"{cx.tile(self._tile(tile))});")


class Split(_ShapeOp):
    """SPLIT / SPLIT_V: one `memory::split` call per output, all in the op's one task."""

    kinds = (OpKind.SPLIT,)


    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "Split":
        x = g.tensor(op.inputs[0])
        ys = [g.tensor(n) for n in op.outputs]
        me = cls(i, op, (op.inputs[0],), op.outputs[0], ys[0].shape, ys[0].dtype.numpy)
        me.int8 = _check_copy(g, op, x, *ys)
        me.x_shape, me.kernel_out = x.shape, ys[0].shape
        me.axis = int(op.attrs.axis) % len(x.shape)
        me.names = tuple(op.outputs)
        me.shapes = tuple(y.shape for y in ys)
        sizes = [int(s[me.axis]) for s in me.shapes]
        if sum(sizes) != x.shape[me.axis]:
            raise UsageError(f"{g.source or g.name}: SPLIT sizes {sizes} do not cover dim "
                             f"{x.shape[me.axis]}")
        me.offsets = tuple(int(v) for v in np.cumsum([0] + sizes[:-1]))
        return me

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.names

    def _tiles(self, tile):
        """The tile for each output: the partitioner cut output 0's grid."""
        if tile is None or nd_tile(self.op.kind, self.shapes[0], self.shapes[0], tile) == \
                nd_tile(self.op.kind, self.shapes[0], self.shapes[0], None):
            return [nd_tile(self.op.kind, s, s, None) for s in self.shapes]
        a5 = _axis5(self.axis, len(self.x_shape))
        if a5 in (2, 4):  # rows or channels differ between outputs
            raise ValueError(f"SPLIT along axis {self.axis}: partial tile {tile} is ambiguous")
        return [nd_tile(self.op.kind, s, s, tile) for s in self.shapes]

    def host(self, env, tile, out):
        return self.host_all(env, tile, {self.output: out})[self.output]

    def host_all(self, env, tile, partial):
        x = env[self.inputs[0]].reshape(self.x_shape)
        result = {}
        for name, shape, off, t in zip(self.names, self.shapes, self.offsets, self._tiles(tile)):
            prev = partial.get(name)
            result[name] = kernels.split(x, self.axis, off, int(shape[self.axis]), tile=t,
                                         out=None if prev is None else prev.reshape(shape))
        return result

    def rust(self, cx: RustCx, tile) -> str:
        a5 = _axis5(self.axis, len(self.x_shape))
        calls = []
        for name, shape, off, t in zip(self.names, self.shapes, self.offsets, self._tiles(tile)):
            p = f"{MEM}::SliceParams::split({shape5_lit(self.x_shape)}, {shape5_lit(shape)}, {a5}, {off})"
            calls.append(f"{MEM}::split(&{p}, {cx.input(self.inputs[0])}, {cx.output(name)}, {cx.tile(t)});")
        return "\n        ".join(calls)


class Concatenation(_ShapeOp):
    """One `memory::concatenation` call per input (int8 inputs quantized unlike the output
    are requantized on the way, as TFLM's QUANTIZE would)."""

    kinds = (OpKind.CONCATENATION,)


    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "Concatenation":
        xs, y = tensors(g, op)
        me = cls(i, op, (), op.outputs[0], y.shape, y.dtype.numpy)
        me.int8 = _check_dtype(g, op, *xs, y)
        if op.attrs.clamp != NO_CLAMP:
            raise UsageError(f"{g.source or g.name}: CONCATENATION with a fused activation "
                             f"{op.attrs.clamp} has no kernel (the copy kernel does not clamp)")
        me.kernel_out = y.shape
        me.axis = int(op.attrs.axis) % len(y.shape)
        me.roles, names = [], []
        for k, (name, x) in enumerate(zip(op.inputs, xs)):
            if x.is_const:
                me.consts[f"in{k}"] = x.data
                me.roles.append((f"in{k}", name))
            else:  # (constant key or None, tensor name): a tensor may be called "in0"
                me.roles.append((None, name))
                if name not in names:
                    names.append(name)
        me.inputs = tuple(names)
        me.parts = [(tuple(x.shape), _per_tensor_requant(x, y) if me.int8 else None) for x in xs]
        return me

    def _operand(self, env, role):
        key, name = role
        return self.consts[key] if key else env[name]

    def host(self, env, tile, out):
        xs = [np.asarray(self._operand(env, r)).reshape(s) for r, (s, _) in zip(self.roles, self.parts)]
        requant = [q for _, q in self.parts] if self.int8 else None
        return kernels.concatenation(xs, self.axis, requant=requant, tile=self._tile(tile),
                                     out=self._prev(out))

    def rust(self, cx: RustCx, tile) -> str:
        rank = len(self.out_shape)
        a5 = _axis5(self.axis, rank)
        t = cx.tile(self._tile(tile))
        out = cx.output(self.output)
        calls, offset = [], 0
        for role, (shape, q) in zip(self.roles, self.parts):
            key, name = role
            src = cx.const(self.key(key), self.consts[key]) if key else cx.input(name)
            p = (f"{MEM}::ConcatParams {{ input: {shape5_lit(shape)}, output: {shape5_lit(self.out_shape)}, "
                 f"axis: {a5}, offset: {offset} }}")
            if q is None:
                calls.append(f"{MEM}::concatenation(&{p}, {src}, {out}, {t});")
            else:
                rq = params_lit("RequantizeParams", q)
                calls.append(f"{MEM}::concatenation_requant_s8(&{p}, &{rq}, {src}, {out}, {t});")
            offset += int(shape[self.axis])
        return "\n        ".join(calls)


class Mean(_ShapeOp):
    """MEAN, SUM, REDUCE_MAX, REDUCE_MIN (reduce.rs)."""

    kinds = (OpKind.MEAN, OpKind.SUM, OpKind.REDUCE_MAX, OpKind.REDUCE_MIN)
    _OPS = {OpKind.MEAN: "mean", OpKind.SUM: "sum", OpKind.REDUCE_MAX: "max", OpKind.REDUCE_MIN: "min"}

    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "Mean":
        (x,), y = tensors(g, op)
        me = cls(i, op, (op.inputs[0],), op.outputs[0], y.shape, y.dtype.numpy)
        me.int8 = _check_dtype(g, op, x, y)
        rank = len(x.shape)
        me.x_shape = x.shape
        me.axes = tuple(sorted({int(a) % rank for a in op.attrs.axes}))
        me.kernel_out = tuple(1 if d in me.axes else n for d, n in enumerate(x.shape))
        src, name = g.source or g.name, op.kind.value
        if math.prod(me.kernel_out) != math.prod(y.shape):
            raise UsageError(f"{src}: {name} output {list(y.shape)} does not fit axes {me.axes}")
        me.mask = [False] * (5 - rank) + [d in me.axes for d in range(rank)]
        me.params = None
        me.reduction = cls._OPS[op.kind]
        if me.int8 and me.reduction in ("max", "min"):
            if (float(np.float32(x.quant.scale[0])), zp(x)) != (float(np.float32(y.quant.scale[0])), zp(y)):
                raise UsageError(f"{src}: op #{i} {name} int8 needs the same input and output "
                                 f"quantization (TFLM's rule)")
        elif me.int8:
            count = math.prod(x.shape[d] for d in me.axes)
            try:
                if me.reduction == "sum":
                    me.params = quant.sum_params(x.quant.scale[0], zp(x), y.quant.scale[0], zp(y))
                else:
                    me.params = quant.mean_params(x.quant.scale[0], zp(x), y.quant.scale[0], zp(y), count)
            except ValueError as e:
                raise UsageError(f"{src}: op #{i} {name}: {e}") from None
        return me

    def host(self, env, tile, out):
        x = env[self.inputs[0]].reshape(self.x_shape)
        r = kernels.mean(x, self.axes, keep_dims=True, params=self.params, tile=self._tile(tile),
                         out=self._prev(out), op=self.reduction)
        return r.reshape(self.out_shape)

    def rust(self, cx: RustCx, tile) -> str:
        shape = (f"{RED}::ReduceShape {{ input: {shape5_lit(self.x_shape)}, axes: "
                 f"[{', '.join('true' if m else 'false' for m in self.mask)}] }}")
        data = f"{cx.input(self.inputs[0])}, {cx.output(self.output)}, {cx.tile(self._tile(tile))}"
        if self.reduction in ("max", "min"):
            return f"{RED}::reduce_{self.reduction}::<{'i8' if self.int8 else 'f32'}>(&{shape}, {data});"
        if not self.int8:
            return f"{RED}::{self.reduction}_f32(&{shape}, {data});"
        return f"{RED}::mean_s8(&{params_lit('MeanParams', self.params, shape=shape)}, {data});"


class Pack(Concatenation):
    """PACK: CONCATENATION of the inputs, each viewed with a size-1 dim inserted at the
    axis (the same flat layout), so the same copy kernel serves it."""

    kinds = (OpKind.PACK,)


    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "Pack":
        me = super().lower(g, i, op)
        me.parts = [(s[:me.axis] + (1,) + s[me.axis:], q) for s, q in me.parts]
        return me
