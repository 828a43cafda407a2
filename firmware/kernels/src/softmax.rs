//! SOFTMAX over the innermost dimension: TFLM's int8 -> int8 path (output zero point -128,
//! scale 1/256) and float32.
//!
//! A tile's `rows` index the flattened outer dimensions; every row needs all of its
//! channels, so `channels` must cover the whole depth (partial channel tiles are ignored).
use crate::fixedpoint::{exp_on_negative_values, rescale};
use crate::requant::{
    multiply_by_quantized_multiplier_greater_than_one, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
};
use crate::tile::{Out, Tile};

const SCALED_DIFF_INTEGER_BITS: i32 = 5;
const ACCUMULATION_INTEGER_BITS: i32 = 12;

params! {
    /// From `arielml.quant.softmax_params`: beta * input_scale as multiplier and left shift,
    /// and the most negative difference from the row max that still contributes.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct SoftmaxParams {
        pub rows: usize,
        pub depth: usize,
        pub input_multiplier: i32,
        pub input_left_shift: i32,
        pub diff_min: i32,
    }
}

/// exp((x - max) * beta * scale) in Q0.31, or None when the difference is below diff_min.
#[inline]
fn exp_of_diff(p: &SoftmaxParams, diff: i32) -> Option<i32> {
    if diff < p.diff_min {
        return None;
    }
    let scaled = multiply_by_quantized_multiplier_greater_than_one(diff, p.input_multiplier, p.input_left_shift);
    Some(exp_on_negative_values(scaled, SCALED_DIFF_INTEGER_BITS))
}

/// 1 / sum as a Q0.31 mantissa and its exponent (TFLM `GetReciprocal`).
fn reciprocal(sum: i32) -> (i32, i32) {
    let headroom_plus_one = (sum as u32).leading_zeros() as i32;
    let bits_over_unit = ACCUMULATION_INTEGER_BITS - headroom_plus_one;
    let shifted_minus_one = ((sum as u32).wrapping_shl(headroom_plus_one as u32)).wrapping_sub(1u32 << 31) as i32;
    (crate::fixedpoint::one_over_one_plus_x_for_x_in_0_1(shifted_minus_one), bits_over_unit)
}

pub fn softmax_s8(p: &SoftmaxParams, input: &[i8], output: Out<'_, i8>, tile: &Tile) {
    if tile.channels.start > 0 || tile.channels.end < p.depth {
        return;
    }
    let (rows, _) = tile.clip(p.rows, p.depth);
    for r in rows {
        let x = &input[r * p.depth..(r + 1) * p.depth];
        let y = &output[r * p.depth..(r + 1) * p.depth];
        let max = x.iter().copied().max().unwrap_or(0) as i32;
        let mut sum: i32 = 0;
        for &v in x {
            if let Some(e) = exp_of_diff(p, v as i32 - max) {
                sum = sum.wrapping_add(rescale(e, 0, ACCUMULATION_INTEGER_BITS));
            }
        }
        let (scale, bits_over_unit) = reciprocal(sum);
        for (o, &v) in y.iter().zip(x) {
            o.set(match exp_of_diff(p, v as i32 - max) {
                Some(e) => {
                    let prob = saturating_rounding_doubling_high_mul(scale, e);
                    let unsat = rounding_divide_by_pot(prob, bits_over_unit + 31 - 8);
                    (unsat - 128).clamp(-128, 127) as i8
                }
                None => i8::MIN,
            });
        }
    }
}

/// float32 SOFTMAX as TFLM computes it: exp((x - max) * beta) / sum.
pub fn softmax_f32(rows_n: usize, depth: usize, beta: f32, input: &[f32], output: Out<'_, f32>, tile: &Tile) {
    if tile.channels.start > 0 || tile.channels.end < depth {
        return;
    }
    let (rows, _) = tile.clip(rows_n, depth);
    for r in rows {
        let x = &input[r * depth..(r + 1) * depth];
        let y = &output[r * depth..(r + 1) * depth];
        let max = x.iter().copied().fold(f32::MIN, f32::max);
        let mut sum = 0.0f32;
        // The row's own output cells hold the exponentials until the sum is known (as in
        // TFLM); they are inside this call's tile, so no other core reads or writes them.
        for (o, &v) in y.iter().zip(x) {
            let e = libm_expf((v - max) * beta);
            o.set(e);
            sum += e;
        }
        for o in y {
            o.set(o.get() / sum);
        }
    }
}

/// `expf` without std: Cody-Waite range reduction then a degree-6 polynomial; accurate to
/// about 2 ulp on the softmax domain (x <= 0). float32 results are compared with a tolerance.
pub fn libm_expf(x: f32) -> f32 {
    if x < -104.0 {
        return 0.0; // below half the smallest subnormal
    }
    if x > 88.8 {
        return f32::INFINITY;
    }
    let k = (x * core::f32::consts::LOG2_E + if x < 0.0 { -0.5 } else { 0.5 }) as i32;
    let r = x - k as f32 * 0.693_145_75 - k as f32 * 1.428_606_8e-6;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // 2^k in two normal factors, so results in the subnormal range (float LOGISTIC far
    // below zero) and just under the overflow threshold still come out right.
    let half = k / 2;
    let pow2 = |e: i32| f32::from_bits(((e + 127) as u32) << 23);
    p * pow2(half) * pow2(k - half)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tile::cells;

    #[test]
    fn uniform_row_gives_equal_probabilities() {
        // input scale 1/16, beta 1 -> multiplier for 2^26/16 = 2^22: (1<<30, 23)
        let p = SoftmaxParams { rows: 1, depth: 4, input_multiplier: 1 << 30, input_left_shift: 23, diff_min: -248 };
        let mut out = [0i8; 4];
        softmax_s8(&p, &[5, 5, 5, 5], cells(&mut out), &Tile::new(0..1, 0..4));
        assert_eq!(out, [-64; 4]); // 0.25 * 256 - 128
    }

    #[test]
    fn expf_close() {
        for i in 0..100 {
            let x = -(i as f32) * 0.37;
            let e = libm_expf(x);
            let want = (x as f64).exp() as f32;
            assert!((e - want).abs() <= want * 1e-6 + 1e-38, "{x} {e} {want}");
        }
    }
}
