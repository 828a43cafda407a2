"""Requantization parameters computed exactly as TFLM computes them at Prepare time.

The compiler calls these once per op and emits the integers as constants; the kernels in
firmware/kernels only ever see (multiplier, shift) pairs, clamp ranges and the like. Every
function mirrors TFLM's float/double arithmetic step by step (including where TFLM multiplies
in float32 before widening to double) because a one-ulp difference in a real multiplier can
flip a rounding and break bit-exactness.
"""

from __future__ import annotations

import math

import numpy as np

INT32_MAX = 2**31 - 1


def _round_half_away(x: float) -> int:
    # C's std::round: halves go away from zero (Python's round() goes to even).
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLM's QuantizeMultiplier: real ~= multiplier * 2**(shift - 31), multiplier in [2**30, 2**31)."""
    real = float(real)
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = _round_half_away(q * float(1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return int(q_fixed), int(shift)


def quantize_multiplier_greater_than_one(real: float) -> tuple[int, int]:
    """Returns (multiplier, left_shift) for a real multiplier > 1 (TFLM asserts shift >= 0)."""
    m, s = quantize_multiplier(real)
    if s < 0:
        raise ValueError(f"multiplier {real} is not > 1")
    return m, s


def _f32(x: float) -> np.float32:
    return np.float32(x)


def conv_per_channel_multipliers(
    input_scale: float, filter_scales, output_scale: float, num_channels: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """PopulateConvolutionQuantizationParams: in double, per output channel.

    filter_scales may hold one scale (per-tensor) which is then broadcast to num_channels.
    Returns (multipliers int32[C], shifts int32[C]).
    """
    scales = np.asarray(filter_scales, dtype=np.float32).reshape(-1)
    n = num_channels if num_channels is not None else scales.size
    mults = np.zeros(n, dtype=np.int32)
    shifts = np.zeros(n, dtype=np.int32)
    ins, outs = float(_f32(input_scale)), float(_f32(output_scale))
    for c in range(n):
        fs = float(scales[c] if scales.size > 1 else scales[0])
        mults[c], shifts[c] = quantize_multiplier(ins * fs / outs)
    return mults, shifts


def conv_per_tensor_multiplier(
    input_scale: float, filter_scale: float, output_scale: float
) -> tuple[int, int]:
    """GetQuantizedConvolutionMultipler: the scale product is taken in float32, then widened."""
    product = float(_f32(input_scale) * _f32(filter_scale))
    return quantize_multiplier(product / float(_f32(output_scale)))


def fully_connected_multipliers(
    input_scale: float, filter_scales, output_scale: float, num_units: int
) -> tuple[np.ndarray, np.ndarray]:
    """FULLY_CONNECTED: per-tensor uses the float32 product; per-channel the double path.

    Always returns arrays of length num_units so one kernel serves both cases.
    """
    scales = np.asarray(filter_scales, dtype=np.float32).reshape(-1)
    if scales.size > 1:
        return conv_per_channel_multipliers(input_scale, scales, output_scale, num_units)
    m, s = conv_per_tensor_multiplier(input_scale, float(scales[0]), output_scale)
    return np.full(num_units, m, np.int32), np.full(num_units, s, np.int32)


def activation_range(activation: str, scale: float, zero_point: int,
                     qmin: int = -128, qmax: int = 127) -> tuple[int, int]:
    """CalculateActivationRangeQuantized: quantize the float bounds in float32, clamp to dtype."""
    def quantize(f: float) -> int:
        return int(zero_point) + _round_half_away(float(_f32(f) / _f32(scale)))

    act = activation.upper()
    if act in ("NONE", ""):
        return qmin, qmax
    if act == "RELU":
        return max(qmin, quantize(0.0)), qmax
    if act == "RELU6":
        return max(qmin, quantize(0.0)), min(qmax, quantize(6.0))
    if act in ("RELU_N1_TO_1", "RELU1"):
        return max(qmin, quantize(-1.0)), min(qmax, quantize(1.0))
    raise ValueError(f"unsupported fused activation {activation!r}")


def float_activation_range(activation: str) -> tuple[float, float]:
    act = activation.upper()
    return {
        "NONE": (-math.inf, math.inf),
        "RELU": (0.0, math.inf),
        "RELU6": (0.0, 6.0),
        "RELU_N1_TO_1": (-1.0, 1.0),
        "RELU1": (-1.0, 1.0),
    }[act]


# ---- ADD / SUB (TFLM add.cc / sub.cc CalculateOpData for int8) ----

ADD_LEFT_SHIFT = 20


def add_params(in1_scale: float, in2_scale: float, out_scale: float) -> dict:
    """Multipliers of TFLM's int8 ADD: both inputs rescaled to 2*max(scale) then to output.

    Returns left_shift, input{1,2}_{multiplier,shift}, output_{multiplier,shift}.
    """
    s1, s2, so = float(_f32(in1_scale)), float(_f32(in2_scale)), float(_f32(out_scale))
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << ADD_LEFT_SHIFT) * so))
    return dict(left_shift=ADD_LEFT_SHIFT, input1_multiplier=m1, input1_shift=sh1,
                input2_multiplier=m2, input2_shift=sh2,
                output_multiplier=mo, output_shift=sho)


def mul_params(in1_scale: float, in2_scale: float, out_scale: float) -> tuple[int, int]:
    """MUL int8: real = in1*in2/out, with the product taken in double from float32 scales."""
    return quantize_multiplier(float(_f32(in1_scale)) * float(_f32(in2_scale)) / float(_f32(out_scale)))


SQUARED_DIFFERENCE_LEFT_SHIFT = 7  # int8: 255^2 << 14 still fits in 32 bits


def squared_difference_params(in1_scale: float, in2_scale: float, out_scale: float) -> dict:
    """Multipliers of TFLM's int8 SQUARED_DIFFERENCE (squared_difference.cc PrepareQuantized):
    inputs to 2*max(scale) as ADD, left shift 7, and the output multiplier
    (2*max)^2 / (2^14 * out), the denominator's product taken in float32 as the C code does."""
    s1, s2, so = float(_f32(in1_scale)), float(_f32(in2_scale)), _f32(out_scale)
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    shift = SQUARED_DIFFERENCE_LEFT_SHIFT
    mo, sho = quantize_multiplier(twice_max * twice_max / float(np.float32(1 << (2 * shift)) * so))
    return dict(left_shift=shift, input1_multiplier=m1, input1_shift=sh1,
                input2_multiplier=m2, input2_shift=sh2, output_multiplier=mo, output_shift=sho)


# ---- SOFTMAX int8 (softmax_common.cc) ----

SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5


def calculate_input_radius(input_integer_bits: int, input_left_shift: int,
                           total_signed_bits: int = 31) -> int:
    max_input_rescaled = (1.0 * ((1 << input_integer_bits) - 1)
                          * float(1 << (total_signed_bits - input_integer_bits))
                          / float(1 << input_left_shift))
    return int(math.floor(max_input_rescaled))


def softmax_params(beta: float, input_scale: float) -> dict:
    """PreprocessSoftmaxScaling + diff_min, for int8 in -> int8 out (zero point -128)."""
    bits = SOFTMAX_SCALED_DIFF_INTEGER_BITS
    real = min(float(beta) * float(_f32(input_scale)) * float(1 << (31 - bits)),
               float((1 << 31) - 1))
    mult, left_shift = quantize_multiplier_greater_than_one(real)
    diff_min = -calculate_input_radius(bits, left_shift)
    return dict(input_multiplier=mult, input_left_shift=left_shift, diff_min=diff_min)


def requantize_params(in_scale: float, out_scale: float) -> tuple[int, int]:
    """QUANTIZE int8 -> int8 (requantize): effective scale in double from float32 scales."""
    return quantize_multiplier(float(_f32(in_scale)) / float(_f32(out_scale)))


def sub_params(in1_scale: float, in2_scale: float, out_scale: float) -> dict:
    """Multipliers of TFLM's int8 SUB: like ADD, but sub_common.cc does the divisions in
    float32 before widening, so the real multipliers can differ from ADD's by an ulp."""
    s1, s2, so = _f32(in1_scale), _f32(in2_scale), _f32(out_scale)
    twice_max = np.float32(2) * max(s1, s2)
    m1, sh1 = quantize_multiplier(float(s1 / twice_max))
    m2, sh2 = quantize_multiplier(float(s2 / twice_max))
    mo, sho = quantize_multiplier(float(twice_max / (np.float32(1 << ADD_LEFT_SHIFT) * so)))
    return dict(left_shift=ADD_LEFT_SHIFT, input1_multiplier=m1, input1_shift=sh1,
                input2_multiplier=m2, input2_shift=sh2,
                output_multiplier=mo, output_shift=sho)


# ---- LOGISTIC / TANH int8 (logistic_common.cc, tanh.cc) ----

SIGMOID_INPUT_INTEGER_BITS = 4


def sigmoid_params(input_scale: float, input_zero_point: int) -> list[int]:
    """(zero_point, range_radius, multiplier, left_shift) for int8 LOGISTIC and TANH.

    TFLM uses frexp directly here, without QuantizeMultiplier's 2**31 carry."""
    real = float(_f32(input_scale)) * float(1 << (31 - SIGMOID_INPUT_INTEGER_BITS))
    q, left_shift = math.frexp(real)
    mult = _round_half_away(q * float(1 << 31))
    radius = calculate_input_radius(SIGMOID_INPUT_INTEGER_BITS, left_shift, 31)
    return [int(input_zero_point), radius, mult, left_shift]


def leaky_relu_params(input_scale: float, input_zero_point: int, alpha: float,
                      output_scale: float, output_zero_point: int) -> list[int]:
    """(in_zp, out_zp, identity mult, shift, alpha mult, shift); TFLM forms both real
    multipliers in float32."""
    s_in, s_out = _f32(input_scale), _f32(output_scale)
    am, ash = quantize_multiplier(float(s_in * _f32(alpha) / s_out))
    im, ish = quantize_multiplier(float(s_in / s_out))
    return [int(input_zero_point), int(output_zero_point), im, ish, am, ash]


def requantize_op_params(input_scale: float, input_zero_point: int, output_scale: float,
                         output_zero_point: int) -> list[int]:
    """(in_zp, out_zp, multiplier, shift) for int8 -> int8 QUANTIZE."""
    m, s = requantize_params(input_scale, output_scale)
    return [int(input_zero_point), int(output_zero_point), m, s]


# ---- MEAN int8 (reduce_common.cc PrepareSimple + reduce.h QuantizedMeanOrSum) ----

def mean_params(input_scale: float, input_zero_point: int, output_scale: float,
                output_zero_point: int, num_elements: int) -> list[int]:
    """(in_zp, out_zp, multiplier, shift) for int8 MEAN over `num_elements` inputs per output.

    Prepare quantizes in_scale/out_scale (in double); Eval then folds 1/num_elements into
    the multiplier with an integer division, which depends only on shapes, so it is done
    here once: shift = floor(log2 n) capped at 32 and at 31 + shift, multiplier
    = (multiplier << shift) // n."""
    n = int(num_elements)
    if n <= 0:
        raise ValueError("MEAN over an empty axis")
    m, s = quantize_multiplier(float(_f32(input_scale)) / float(_f32(output_scale)))
    fold = min(n.bit_length() - 1, 32, 31 + s)
    if fold < 0:
        raise ValueError(f"MEAN scale ratio {input_scale / output_scale} is below 2**-31")
    return [int(input_zero_point), int(output_zero_point), (m << fold) // n, s - fold]


def sum_params(input_scale: float, input_zero_point: int, output_scale: float,
               output_zero_point: int) -> list[int]:
    """(in_zp, out_zp, multiplier, shift) for int8 SUM: MEAN's integer path without the
    1/num_elements fold (reduce.h QuantizedMeanOrSum with compute_sum)."""
    m, s = quantize_multiplier(float(_f32(input_scale)) / float(_f32(output_scale)))
    return [int(input_zero_point), int(output_zero_point), m, s]


# ---- HARD_SWISH int8 (hard_swish_common.cc) ----

def _downscale_to_int16(m: int) -> int:
    """DownScaleInt32ToInt16Multiplier: round a Q0.31 multiplier to Q0.15, saturating."""
    if m >= INT32_MAX - (1 << 15):
        return 2**15 - 1
    return (m + (1 << 15)) >> 16


def hard_swish_params(input_scale: float, input_zero_point: int, output_scale: float,
                      output_zero_point: int) -> list[int]:
    """(in_zp, out_zp, reluish_mult, reluish_exp, out_mult, out_exp); the scale ratios are
    formed in float32 (hires = in_scale / 128, reluish scale 3 / 32768) then widened."""
    hires = np.float32(1.0 / 128.0) * _f32(input_scale)
    om, oe = quantize_multiplier(float(hires / _f32(output_scale)))
    if oe > 0:
        raise ValueError("HARD_SWISH needs output_scale >= input_scale / 128 (TFLM rejects it)")
    rm, re_ = quantize_multiplier(float(hires / (np.float32(3.0) / np.float32(32768.0))))
    return [int(input_zero_point), int(output_zero_point), _downscale_to_int16(rm), re_,
            _downscale_to_int16(om), oe]


# ---- STRIDED_SLICE geometry (strided_slice_logic.h StartForAxis / StopForAxis) ----

def _slice_start(begin: int, stride: int, size: int, masked: bool) -> int:
    if masked:
        begin = -(2**31) if stride > 0 else 2**31 - 1
    if begin < 0:
        begin += size
    return min(max(begin, 0), size) if stride > 0 else min(max(begin, -1), size - 1)


def _slice_stop(end: int, stride: int, size: int, masked: bool) -> int:
    if masked:
        end = 2**31 - 1 if stride > 0 else -(2**31)
    if end < 0:
        end += size
    return min(max(end, 0), size) if stride > 0 else min(max(end, -1), size - 1)


def strided_slice_params(in_shape, begin, end, strides, begin_mask: int = 0, end_mask: int = 0,
                         shrink_axis_mask: int = 0) -> dict:
    """Resolves STRIDED_SLICE's masks and negative indices as TFLM does (no ellipsis or
    new-axis masks, like TFLM). Returns start and stride per dim, the output shape with
    shrunk dims kept as 1 (`kernel_shape`, same flat layout) and the op's output shape."""
    start, kernel_shape, out_shape = [], [], []
    for d, size in enumerate(in_shape):
        s = int(strides[d])
        if s == 0:
            raise ValueError("stride value has to be non-zero")
        b = _slice_start(int(begin[d]), s, size, bool(begin_mask >> d & 1)) if size else 0
        if shrink_axis_mask >> d & 1:
            if not 0 <= b < size:
                # TFLM would read outside the input here; TF itself rejects such a model.
                raise ValueError(f"shrunk axis {d} index {begin[d]} is out of range")
            e = b + 1
        else:
            e = _slice_stop(int(end[d]), s, size, bool(end_mask >> d & 1)) if size else 0
        n = max(0, -((b - e) // s))  # ceil((e - b) / s) for either sign of s
        start.append(b)
        kernel_shape.append(n)
        if not shrink_axis_mask >> d & 1:
            out_shape.append(n)
    return dict(start=start, stride=[int(s) for s in strides], kernel_shape=kernel_shape,
                out_shape=out_shape)
