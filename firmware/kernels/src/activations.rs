//! Elementwise int8 activations and (de)quantization: LOGISTIC, TANH, LEAKY_RELU,
//! QUANTIZE (float32 -> int8, and requantizing between int8 and uint8 as wake-word
//! models' uint8 inputs and outputs need; TFLM has no float32 -> uint8) and DEQUANTIZE (int8/uint8 -> float32).
//!
//! All take the tensor's NHWC shape and a tile; elements outside the tile are untouched.
use crate::fixedpoint;
use crate::requant::{multiply_by_quantized_multiplier, rounding_divide_by_pot};
use crate::tile::{for_each_in_tile, Out, Shape4, Tile};

params! {
    /// LOGISTIC and TANH: input rescaled to Q4.27 by `input_multiplier * 2^input_left_shift`,
    /// inputs further than `input_range_radius` from the zero point saturate.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct SigmoidParams {
        pub input_zero_point: i32,
        pub input_range_radius: i32,
        pub input_multiplier: i32,
        pub input_left_shift: i32,
    }
}

const SIGMOID_INPUT_INTEGER_BITS: i32 = 4;

#[inline]
fn sigmoid_like(p: &SigmoidParams, x: i8, f: impl Fn(i32) -> i8) -> i8 {
    let v = x as i32 - p.input_zero_point;
    if v <= -p.input_range_radius {
        i8::MIN
    } else if v >= p.input_range_radius {
        i8::MAX
    } else {
        f(multiply_by_quantized_multiplier(v, p.input_multiplier, p.input_left_shift))
    }
}

/// Output has scale 1/256 and zero point -128, as TFLM requires.
pub fn logistic_s8(p: &SigmoidParams, s: Shape4, input: &[i8], output: Out<'_, i8>, tile: &Tile) {
    for_each_in_tile(s, tile, |i| {
        output[i].set(sigmoid_like(p, input[i], |q4| {
            let q0 = fixedpoint::logistic(q4, SIGMOID_INPUT_INTEGER_BITS);
            (rounding_divide_by_pot(q0, 23) - 128).clamp(-128, 127) as i8
        }));
    });
}

/// Output has scale 1/128 and zero point 0.
pub fn tanh_s8(p: &SigmoidParams, s: Shape4, input: &[i8], output: Out<'_, i8>, tile: &Tile) {
    for_each_in_tile(s, tile, |i| {
        output[i].set(sigmoid_like(p, input[i], |q4| {
            let q0 = fixedpoint::tanh(q4, SIGMOID_INPUT_INTEGER_BITS);
            rounding_divide_by_pot(q0, 24).clamp(-128, 127) as i8
        }));
    });
}

params! {
    /// LEAKY_RELU: separate multipliers for the identity and the alpha side.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct LeakyReluParams {
        pub input_zero_point: i32,
        pub output_zero_point: i32,
        pub identity_multiplier: i32,
        pub identity_shift: i32,
        pub alpha_multiplier: i32,
        pub alpha_shift: i32,
    }
}

pub fn leaky_relu_s8(p: &LeakyReluParams, s: Shape4, input: &[i8], output: Out<'_, i8>, tile: &Tile) {
    // A negative alpha is applied as |alpha| and a negation, as TFLM does, so rounding of
    // the magnitude matches.
    let neg = p.alpha_multiplier < 0;
    let alpha = p.alpha_multiplier.wrapping_abs();
    for_each_in_tile(s, tile, |i| {
        let v = input[i] as i32 - p.input_zero_point;
        let scaled = if v >= 0 {
            multiply_by_quantized_multiplier(v, p.identity_multiplier, p.identity_shift)
        } else {
            let a = multiply_by_quantized_multiplier(v, alpha, p.alpha_shift);
            if neg { -a } else { a }
        };
        output[i].set((p.output_zero_point + scaled).clamp(-128, 127) as i8);
    });
}

params! {
    /// int8 -> int8 QUANTIZE (a requantization to another scale and zero point).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct RequantizeParams {
        pub input_zero_point: i32,
        pub output_zero_point: i32,
        pub multiplier: i32,
        pub shift: i32,
    }
}

/// One element of TFLM's int8 -> int8 QUANTIZE.
#[inline]
pub fn requantize_value(p: &RequantizeParams, x: i8) -> i8 {
    let v = multiply_by_quantized_multiplier(x as i32 - p.input_zero_point, p.multiplier, p.shift);
    (v + p.output_zero_point).clamp(-128, 127) as i8
}

pub fn requantize_s8(p: &RequantizeParams, s: Shape4, input: &[i8], output: Out<'_, i8>, tile: &Tile) {
    for_each_in_tile(s, tile, |i| output[i].set(requantize_value(p, input[i])));
}

/// An 8-bit quantized type: int8 or uint8.
pub trait Quant8: Copy {
    const MIN: i32;
    const MAX: i32;
    fn widen(self) -> i32;
    /// `v` must lie in MIN..=MAX.
    fn narrow(v: i32) -> Self;
}

impl Quant8 for i8 {
    const MIN: i32 = -128;
    const MAX: i32 = 127;
    fn widen(self) -> i32 {
        self as i32
    }
    fn narrow(v: i32) -> Self {
        v as i8
    }
}

impl Quant8 for u8 {
    const MIN: i32 = 0;
    const MAX: i32 = 255;
    fn widen(self) -> i32 {
        self as i32
    }
    fn narrow(v: i32) -> Self {
        v as u8
    }
}

/// QUANTIZE between 8-bit types (TFLM's `Requantize`, e.g. a uint8 graph input to int8):
/// `clamp(MultiplyByQuantizedMultiplier(x - in_zp, m, shift) + out_zp)` to the output type.
pub fn requantize<I: Quant8, O: Quant8>(p: &RequantizeParams, s: Shape4, input: &[I], output: Out<'_, O>, tile: &Tile) {
    for_each_in_tile(s, tile, |i| {
        let v = multiply_by_quantized_multiplier(input[i].widen() - p.input_zero_point, p.multiplier, p.shift);
        output[i].set(O::narrow((v + p.output_zero_point).clamp(O::MIN, O::MAX)));
    });
}

/// int8/uint8 -> float32 DEQUANTIZE (see `dequantize_s8_f32`).
pub fn dequantize_f32<I: Quant8>(scale: f64, zero_point: i32, s: Shape4, input: &[I], output: Out<'_, f32>, tile: &Tile) {
    for_each_in_tile(s, tile, |i| {
        output[i].set((scale * (input[i].widen() - zero_point) as f64) as f32);
    });
}

/// C's `roundf` (ties away from zero), which `core` does not provide.
#[inline]
pub fn round_half_away(x: f32) -> f32 {
    // Written so NaN takes this branch too.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    if !(x.abs() < 8_388_608.0) {
        return x; // already an integer (or NaN/inf)
    }
    let t = x as i32 as f32;
    let frac = x - t;
    if frac >= 0.5 {
        t + 1.0
    } else if frac <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// float32 -> int8 QUANTIZE: `round(x / scale) + zero_point`, the division in float32.
pub fn quantize_f32_s8(scale: f32, zero_point: i32, s: Shape4, input: &[f32], output: Out<'_, i8>, tile: &Tile) {
    for_each_in_tile(s, tile, |i| {
        let q = (round_half_away(input[i] / scale) as i32).saturating_add(zero_point);
        output[i].set(q.clamp(-128, 127) as i8);
    });
}

/// int8 -> float32 DEQUANTIZE: the product is taken in double, as TFLM does.
pub fn dequantize_s8_f32(scale: f64, zero_point: i32, s: Shape4, input: &[i8], output: Out<'_, f32>, tile: &Tile) {
    for_each_in_tile(s, tile, |i| {
        output[i].set((scale * (input[i] as i32 - zero_point) as f64) as f32);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tile::cells;

    #[test]
    fn rounding_matches_c_roundf() {
        assert_eq!(round_half_away(2.5), 3.0);
        assert_eq!(round_half_away(-2.5), -3.0);
        assert_eq!(round_half_away(-2.4), -2.0);
        assert_eq!(round_half_away(1e10), 1e10);
    }

    #[test]
    fn logistic_of_zero_is_half() {
        let p = SigmoidParams { input_zero_point: 3, input_range_radius: 100, input_multiplier: 1 << 30, input_left_shift: 1 };
        let mut out = [9i8; 2];
        logistic_s8(&p, Shape4::new(1, 1, 1, 2), &[3, 120], cells(&mut out), &Tile::new(0..1, 0..2));
        assert_eq!(out, [0, 127]); // 0.5 * 256 - 128
    }
}
