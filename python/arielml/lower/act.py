"""Elementwise unary ops: QUANTIZE (float32 to int8, int8/uint8 to int8/uint8), DEQUANTIZE, LOGISTIC, TANH, LEAKY_RELU, HARD_SWISH, and
the standalone clamps RELU, RELU6 and CLIP; int8 and float32.

All tile NHWC rows and channels (ir.kinds: elementwise) over the tensor's rank-4 view.

There is no clamp kernel. A standalone clamp is lowered to MUL by a constant 1:
  int8:    y = clamp(out_zp + MultiplyByQuantizedMultiplier((x - in_zp) * 1, m, s), lo, hi)
           which is TFLM's ReluQuantized term for term (RELU, CLIP); RELU6, which TFLM
           evaluates as a plain clamp in the input's domain, gets the identity multiplier
           (1 << 30, shift 1: exact) and offsets 0.
  float32: y = min(max(x * 1.0, lo), hi), and x * 1.0 == x exactly.
float32 LEAKY_RELU has no kernel either: it is one inline loop in the firmware (`x > 0 ? x :
x * alpha`, TFLM's formula) and the same single IEEE multiply in numpy on the host.
"""

from __future__ import annotations

import math

import numpy as np

from arielml.errors import UsageError
from arielml.ir import DType, Graph, Op, OpKind
from arielml.ir import quant
from arielml.lower import host_kernels as kernels
from arielml.lower.base import KCRATE, Lowered, RustCx, f32_lit, params_lit, shape4, shape4_lit, tensors, zp
from arielml.passes.requant import activation_bounds

ACT = f"{KCRATE}::activations"
ACT_F32 = f"{KCRATE}::activations_f32"
HSWISH = f"{KCRATE}::hard_swish"

# The parameter struct of each int8 kernel that takes `Unary.params`.
_STRUCT = {"requantize": "RequantizeParams", "logistic": "SigmoidParams", "tanh": "SigmoidParams",
           "leaky_relu": "LeakyReluParams", "hard_swish": "HardSwishParams"}

# The 8-bit quantized types QUANTIZE and DEQUANTIZE convert between (uint8 at the edges of
# wake-word models), and their Rust names.
_Q8 = (DType.INT8, DType.UINT8)
_RUST8 = {"int8": "i8", "uint8": "u8"}

# TFLM's fixed output quantization of int8 LOGISTIC and TANH.
_FIXED_OUT = {OpKind.LOGISTIC: (1.0 / 256, -128), OpKind.TANH: (1.0 / 128, 0)}


def _scale(t) -> float:
    return float(t.quant.scale[0])


def _per_tensor(g: Graph, op: Op, *ts) -> None:
    for t in ts:
        if t.dtype in (DType.INT8, DType.UINT8) and (t.quant is None or len(t.quant.scale) != 1):
            raise UsageError(f"{g.source or g.name}: {op.kind.value} needs per-tensor int8 "
                             f"quantization on {t.name}")


def _rank4(g: Graph, op: Op, shape) -> tuple[int, int, int, int]:
    if len(shape) > 4:
        raise UsageError(f"{g.source or g.name}: {op.kind.value} on a rank-{len(shape)} "
                         f"tensor (elementwise kernels take rank <= 4)")
    return shape4(shape)


class Unary(Lowered):
    """QUANTIZE, DEQUANTIZE, LOGISTIC, TANH, LEAKY_RELU, HARD_SWISH."""

    kinds = (OpKind.QUANTIZE, OpKind.DEQUANTIZE, OpKind.LOGISTIC, OpKind.TANH, OpKind.LEAKY_RELU,
             OpKind.HARD_SWISH)


    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "Unary":
        (x,), y = tensors(g, op)
        me = cls(i, op, (op.inputs[0],), op.outputs[0], y.shape, y.dtype.numpy)
        me.s4 = _rank4(g, op, y.shape)
        _per_tensor(g, op, x, y)
        src = g.source or g.name
        kind, xi, yi = op.kind, x.dtype is DType.INT8, y.dtype is DType.INT8
        me.params: list[int] = []
        me.src, me.dst = x.dtype.value, y.dtype.value  # for the 8-bit kinds: int8 or uint8
        if kind is OpKind.QUANTIZE:
            if y.dtype not in _Q8 or x.dtype not in (*_Q8, DType.FLOAT32) or (x.dtype, y.dtype) == (
                    DType.FLOAT32, DType.UINT8):  # TFLM has no float32 -> uint8 either
                raise UsageError(f"{src}: QUANTIZE {x.dtype.value} -> {y.dtype.value} has no kernel")
            if x.dtype in _Q8:
                me.mode = "requantize"
                me.params = quant.requantize_op_params(_scale(x), zp(x), _scale(y), zp(y))
            else:
                me.mode = "quantize"
                me.qparams = (float(np.float32(_scale(y))), zp(y))
        elif kind is OpKind.DEQUANTIZE:
            if x.dtype not in _Q8 or y.dtype is not DType.FLOAT32:
                raise UsageError(f"{src}: DEQUANTIZE {x.dtype.value} -> {y.dtype.value} has no kernel")
            me.mode = "dequantize"
            me.qparams = (float(np.float32(_scale(x))), zp(x))
        elif xi != yi:
            raise UsageError(f"{src}: {kind.value} from {x.dtype.value} to {y.dtype.value}")
        elif not xi:
            me.mode = {OpKind.LOGISTIC: "logistic", OpKind.TANH: "tanh",
                       OpKind.HARD_SWISH: "hard_swish", OpKind.LEAKY_RELU: "leaky_relu_f32"}[kind]
            me.alpha = float(np.float32(op.attrs.alpha)) if kind is OpKind.LEAKY_RELU else None
        elif kind in (OpKind.LOGISTIC, OpKind.TANH):
            want = _FIXED_OUT[kind]
            got = (_scale(y), zp(y))
            if not (math.isclose(got[0], want[0], rel_tol=1e-6) and got[1] == want[1]):
                raise UsageError(f"{src}: int8 {kind.value} must output scale {want[0]:g} and zero "
                                 f"point {want[1]} (TFLM's fixed quantization), got {got[0]:g}, {got[1]}")
            me.mode = kind.value.lower()
            me.params = quant.sigmoid_params(_scale(x), zp(x))
        elif kind is OpKind.LEAKY_RELU:
            me.mode = "leaky_relu"
            me.params = quant.leaky_relu_params(_scale(x), zp(x), op.attrs.alpha, _scale(y), zp(y))
        elif kind is OpKind.HARD_SWISH:
            me.mode = "hard_swish"
            try:
                me.params = quant.hard_swish_params(_scale(x), zp(x), _scale(y), zp(y))
            except ValueError as e:
                raise UsageError(f"{src}: op #{i} HARD_SWISH: {e}") from None
        else:
            raise UsageError(f"{src}: {kind.value} is not a unary op")
        me.int8_in = xi
        return me

    def host(self, env, tile, out):
        x = env[self.inputs[0]].reshape(self.s4)
        prev = None if out is None else out.reshape(self.s4)
        m = self.mode
        if m == "requantize" and "uint8" in (self.src, self.dst):
            r = kernels.requantize8(self.src, self.dst, x, self.params, tile=tile, out=prev)
        elif m == "quantize":
            r = kernels.quantize_f32_s8(x, *self.qparams, tile=tile, out=prev)
        elif m == "dequantize":
            r = kernels.dequantize_8_f32(self.src, x, *self.qparams, tile=tile, out=prev)
        elif m == "leaky_relu_f32":
            r = _leaky_relu_f32_host(x, self.alpha, tile, prev)
        elif self.int8_in:
            r = kernels.unary_s8(m, x, self.params, tile=tile, out=prev)
        else:
            r = kernels.unary_f32(m, x, tile=tile, out=prev)
        return r.reshape(self.out_shape)

    def rust(self, cx: RustCx, tile) -> str:
        s = shape4_lit(self.s4)
        data = f"{s}, {cx.input(self.inputs[0])}, {cx.output(self.output)}, {cx.tile(tile)}"
        m, p = self.mode, self.params
        i, o = _RUST8.get(self.src), _RUST8.get(self.dst)
        if m == "requantize" and "uint8" in (self.src, self.dst):
            return f"{ACT}::requantize::<{i}, {o}>(&{params_lit('RequantizeParams', p)}, {data});"
        if m == "quantize":
            return f"{ACT}::quantize_f32_s8({f32_lit(self.qparams[0])}, {self.qparams[1]}, {data});"
        if m == "dequantize":
            return f"{ACT}::dequantize_f32::<{i}>({self.qparams[0]!r}_f64, {self.qparams[1]}, {data});"
        if m == "leaky_relu_f32":
            return (f"{{ let x = {cx.input(self.inputs[0])}; let y = {cx.output(self.output)}; "
                    f"{KCRATE}::tile::for_each_in_tile({s}, {cx.tile(tile)}, |i| {{ let v = x[i]; "
                    f"y[i].set(if v > 0.0 {{ v }} else {{ v * {f32_lit(self.alpha)} }}); }}); }}")
        if not self.int8_in:
            mod = HSWISH if m == "hard_swish" else ACT_F32
            return f"{mod}::{m}_f32({data});"
        mod = HSWISH if m == "hard_swish" else ACT
        return f"{mod}::{m}_s8(&{params_lit(_STRUCT[m], p)}, {data});"


def tile_mask(s4, tile) -> np.ndarray:
    """Boolean NHWC mask of a tile's elements (rows = H, channels = C)."""
    mask = np.zeros(s4, bool)
    if tile is None:
        mask[...] = True
    else:
        r0, r1, c0, c1 = tile
        mask[:, r0:r1, :, c0:c1] = True
    return mask


def _leaky_relu_f32_host(x, alpha: float, tile, prev) -> np.ndarray:
    x = np.asarray(x, np.float32)
    y = np.zeros(x.shape, np.float32) if prev is None else np.array(prev, np.float32)
    full = np.where(x > 0, x, x * np.float32(alpha)).astype(np.float32)
    mask = tile_mask(x.shape, tile)
    y[mask] = full[mask]
    return y


def _relu6_int8(x) -> tuple[int, int]:
    """TFLM Relu6Prepare: zero = input zero point, six = FloatToQuantizedType(6, ...):
    round(zero_point + 6.0f / scale) in float32, clamped to int8."""
    s, z = np.float32(_scale(x)), zp(x)
    six = quant._round_half_away(float(np.float32(np.float32(z) + np.float32(6.0) / s)))
    return z, max(-128, min(127, six))


class Clamp(Lowered):
    """Standalone RELU, RELU6, CLIP (one not fused into its producer): MUL by 1."""

    kinds = (OpKind.RELU, OpKind.RELU6, OpKind.CLIP)


    @classmethod
    def lower(cls, g: Graph, i: int, op: Op) -> "Clamp":
        (x,), y = tensors(g, op)
        me = cls(i, op, (op.inputs[0],), op.outputs[0], y.shape, y.dtype.numpy)
        me.s4 = _rank4(g, op, y.shape)
        me.int8 = x.dtype is DType.INT8
        if me.int8 != (y.dtype is DType.INT8):
            raise UsageError(f"{g.source or g.name}: {op.kind.value} from {x.dtype.value} to "
                             f"{y.dtype.value}")
        if me.int8:
            _per_tensor(g, op, x, y)
            me.consts["one"] = np.ones(1, np.int8)
            if op.kind is OpKind.RELU6:
                lo, hi = _relu6_int8(x)
                mult, shift, in_off, out_off = 1 << 30, 1, 0, 0
            else:
                # CalculateReluOpData: the scale ratio in float32, then QuantizeMultiplier.
                ratio = np.float32(_scale(x)) / np.float32(_scale(y))
                mult, shift = quant.quantize_multiplier(float(ratio))
                in_off, out_off = -zp(x), zp(y)
                if op.kind is OpKind.RELU:
                    lo, hi = max(-128, zp(y)), 127
                else:
                    lo, hi = activation_bounds(op.attrs.clamp, y)
            me.params = {"input1_offset": in_off, "input2_offset": 0, "output_offset": out_off,
                         "output_multiplier": mult, "output_shift": shift}
            me.act = (lo, hi)
        else:
            me.consts["one"] = np.ones(1, np.float32)
            me.act = tuple(float(v) for v in op.attrs.clamp)
        return me

    @property
    def words(self) -> list[int]:
        """int8: ArithmeticParams' words of the MUL by 1, for the host kernel and the firmware."""
        return kernels.arithmetic_words(self.params, self.act)

    def host(self, env, tile, out):
        x = env[self.inputs[0]].reshape(self.s4)
        prev = None if out is None else out.reshape(self.s4)
        one = self.consts["one"].reshape(1, 1, 1, 1)
        if self.int8:
            r = kernels.binary_s8_words("mul", x, one, self.words, tile=tile, out=prev)
        else:
            r = kernels.binary_f32("mul", x, one, act=self.act, tile=tile, out=prev)
        return r.reshape(self.out_shape)

    def rust(self, cx: RustCx, tile) -> str:
        shapes = (f"BinaryShapes {{ input1: {shape4_lit(self.s4)}, input2: Shape4::new(1, 1, 1, 1), "
                  f"output: {shape4_lit(self.s4)} }}")
        data = (f"&{shapes}, {cx.input(self.inputs[0])}, {cx.const(self.key('one'), self.consts['one'])}, "
                f"{cx.output(self.output)}, {cx.tile(tile)}")
        if not self.int8:
            return (f"elementwise::binary_f32(BinaryF32::Mul, ({f32_lit(self.act[0])}, "
                    f"{f32_lit(self.act[1])}), {data});")
        return f"elementwise::mul_s8(&{params_lit('ArithmeticParams', self.words)}, {data});"
