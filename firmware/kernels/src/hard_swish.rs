//! HARD_SWISH: `x * relu6(x + 3) / 6`, int8 bit for bit as TFLM's reference kernel
//! (16-bit fixed point with a "reluish" and an output multiplier) and float32.
use crate::tile::{for_each_in_tile, Out, Shape4, Tile};

params! {
    /// From `arielml.quant.hard_swish_params`; both multipliers are TFLM's int32 ones
    /// rounded down to 16 bits, their exponents as QuantizeMultiplier gives them.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct HardSwishParams {
        pub input_zero_point: i32,
        pub output_zero_point: i32,
        pub reluish_multiplier: i16,
        pub reluish_exponent: i32,
        pub output_multiplier: i16,
        pub output_exponent: i32,
    }
}

/// gemmlowp's 16-bit `SaturatingRoundingDoublingHighMul`.
#[inline]
fn rounding_high_mul16(a: i16, b: i16) -> i16 {
    if a == b && a == i16::MIN {
        return i16::MAX;
    }
    let ab = a as i32 * b as i32;
    let nudge = if ab >= 0 { 1 << 14 } else { 1 - (1 << 14) };
    ((ab + nudge) / (1 << 15)) as i16
}

/// TFLM's `SaturatingDoublingHighMul`: like the above but truncating toward zero, which
/// TFLM picked because it cancels the bias of the rounding one.
#[inline]
fn truncating_high_mul16(a: i16, b: i16) -> i16 {
    if a == b && a == i16::MIN {
        return i16::MAX;
    }
    ((a as i32 * b as i32) / (1 << 15)) as i16
}

/// gemmlowp's `RoundingDivideByPOT` on int16, including its 16-bit mask (which only
/// matters for exponents >= 16, i.e. absurd scale ratios, but costs nothing to mirror).
#[inline]
fn rounding_divide_by_pot16(x: i16, exponent: i32) -> i16 {
    let e = exponent.clamp(0, 31);
    let mask = ((1i64 << e) - 1) as i16;
    let remainder = x & mask;
    let threshold = (mask >> 1).wrapping_add((x < 0) as i16);
    (((x as i32) >> e) as i16).wrapping_add((remainder > threshold) as i16)
}

#[inline]
fn saturating_left_shift16(x: i16, amount: i32) -> i16 {
    let v = (x as i64) << amount.clamp(0, 32);
    v.clamp(i16::MIN as i64, i16::MAX as i64) as i16
}

#[inline]
pub fn hard_swish_value(p: &HardSwishParams, x: i8) -> i8 {
    let input_value = (x as i32 - p.input_zero_point) as i16;
    // Seven bits of headroom: |input_value| <= 255, so this never overflows int16.
    let hires = input_value * (1 << 7);
    let preshift_output = rounding_high_mul16(hires, p.output_multiplier);
    // The reluish value: x rescaled so that 3.0 maps to 32768, saturating, with the
    // left shift split around the multiply so saturation only happens at the end.
    let mut reluish = hires;
    if p.reluish_exponent > 0 {
        reluish = saturating_left_shift16(reluish, p.reluish_exponent - 1);
    }
    reluish = rounding_high_mul16(reluish, p.reluish_multiplier);
    if p.reluish_exponent > 0 {
        reluish = saturating_left_shift16(reluish, 1);
    } else if p.reluish_exponent < 0 {
        reluish = rounding_divide_by_pot16(reluish, -p.reluish_exponent);
    }
    // [-1, 1] -> [0, 1] in Q0.15.
    let reluish = ((reluish as i32 + (1 << 15)) >> 1) as i16;
    let preshift = truncating_high_mul16(reluish, preshift_output);
    let out = rounding_divide_by_pot16(preshift, -p.output_exponent);
    // TFLM adds the zero point in int16 (wrapping) before clamping.
    let out = (out as i32 + p.output_zero_point) as i16;
    out.clamp(i8::MIN as i16, i8::MAX as i16) as i8
}

pub fn hard_swish_s8(p: &HardSwishParams, s: Shape4, input: &[i8], output: Out<'_, i8>, tile: &Tile) {
    for_each_in_tile(s, tile, |i| output[i].set(hard_swish_value(p, input[i])));
}

/// float32 as TFLM evaluates it: `(x * min(6, max(0, x + 3))) / 6`.
pub fn hard_swish_f32(s: Shape4, input: &[f32], output: Out<'_, f32>, tile: &Tile) {
    for_each_in_tile(s, tile, |i| {
        let x = input[i];
        output[i].set(x * (x + 3.0).clamp(0.0, 6.0) / 6.0);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tile::cells;

    #[test]
    fn saturates_and_passes_through() {
        // input scale 1/16, output scale 1/16: hires 1/2048; output mult 1/128 -> (16384, -6);
        // reluish 2^15/(3*2048) = 5.33 -> (21845, 3).
        let p = HardSwishParams {
            input_zero_point: 0, output_zero_point: 0, reluish_multiplier: 21845,
            reluish_exponent: 3, output_multiplier: 16384, output_exponent: -6,
        };
        // x = 4.0 (64) -> 4.0 ; x = -4.0 -> 0 ; x = 0 -> 0; x = 1.0 -> 1*4/6 = 0.667 (10.7)
        let mut y = [9i8; 4];
        hard_swish_s8(&p, Shape4::new(1, 1, 1, 4), &[64, -64, 0, 16], cells(&mut y), &Tile::new(0..1, 0..4));
        assert_eq!(&y[..3], &[64, 0, 0]);
        assert!((y[3] as i32 - 11).abs() <= 1, "{y:?}");
    }
}
