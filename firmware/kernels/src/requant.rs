//! Fixed-point requantization, bit for bit as TFLM's default (double-rounding) path.
//!
//! TFLM has a `TFLITE_SINGLE_ROUNDING` variant; the reference build and the Python
//! interpreter we test against use the double-rounding one, so only that lives here.

/// `round(a * b / 2^31)` (ties up for positives, toward zero for negatives), saturating the one overflow case
/// (`i32::MIN * i32::MIN`).
#[inline]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == b && a == i32::MIN {
        return i32::MAX;
    }
    // gemmlowp computes `trunc((ab + nudge) / 2^31)` with nudge `2^30` for ab >= 0 and
    // `1 - 2^30` below. For ab < 0 that is `ceil((ab + 1 - 2^30) / 2^31)`
    // = `floor((ab + 1 - 2^30 + 2^31 - 1) / 2^31)` = `floor((ab + 2^30) / 2^31)`, the same
    // expression as for ab >= 0, so one arithmetic shift does both (no branch, no division).
    ((a as i64 * b as i64 + (1i64 << 30)) >> 31) as i32
}

/// The original formulation, kept to test the shift form against.
#[cfg(test)]
fn srdhm_by_division(a: i32, b: i32) -> i32 {
    if a == b && a == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// `x / 2^exponent` rounded to nearest, ties away from zero. `exponent` in 0..=31.
#[inline]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    debug_assert!((0..=31).contains(&exponent));
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + (x < 0) as i32;
    (x >> exponent) + (remainder > threshold) as i32
}

/// TFLM's `MultiplyByQuantizedMultiplier`: `x * m * 2^(shift-31)` with a left shift
/// applied before the high multiply and a rounding right shift after it.
#[inline]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = if shift > 0 { shift } else { 0 };
    let right = if shift > 0 { 0 } else { -shift };
    // `x * (1 << left)` wraps in TFLM only for invalid parameters; wrapping keeps us panic-free.
    let shifted = x.wrapping_mul(1i32.wrapping_shl(left as u32));
    rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right)
}

/// `MultiplyByQuantizedMultiplierSmallerThanOneExp` (ADD/SUB): `shift` is <= 0.
#[inline]
pub fn multiply_by_quantized_multiplier_smaller_than_one_exp(
    x: i32,
    multiplier: i32,
    left_shift: i32,
) -> i32 {
    rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, multiplier), -left_shift)
}

/// `MultiplyByQuantizedMultiplierGreaterThanOne` (SOFTMAX): `left_shift` is >= 0.
#[inline]
pub fn multiply_by_quantized_multiplier_greater_than_one(
    x: i32,
    multiplier: i32,
    left_shift: i32,
) -> i32 {
    saturating_rounding_doubling_high_mul(x.wrapping_mul(1i32.wrapping_shl(left_shift as u32)), multiplier)
}

/// Clamp an int32 result into `[act_min, act_max]` and narrow it to int8.
#[inline]
pub fn clamp_to_i8(v: i32, act_min: i32, act_max: i32) -> i8 {
    v.max(act_min).min(act_max) as i8
}

/// Requantize one accumulator the way every int8 conv-like kernel finishes.
#[inline]
pub fn requantize_acc(acc: i32, multiplier: i32, shift: i32, out_offset: i32, lo: i32, hi: i32) -> i8 {
    let v = multiply_by_quantized_multiplier(acc, multiplier, shift).wrapping_add(out_offset);
    clamp_to_i8(v, lo, hi)
}

/// `requantize_acc` with one output channel's parameters fixed, for kernels that
/// requantize many accumulators of the same channel.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Requant {
    multiplier: i32,
    left: u32,
    right: i32,
    out_offset: i32,
    lo: i32,
    hi: i32,
}

impl Requant {
    #[inline(always)]
    pub(crate) fn new(multiplier: i32, shift: i32, out_offset: i32, lo: i32, hi: i32) -> Self {
        let left = if shift > 0 { shift } else { 0 };
        let right = if shift > 0 { 0 } else { -shift };
        Requant { multiplier, left: left as u32, right, out_offset, lo, hi }
    }

    /// Exactly `requantize_acc(acc, multiplier, shift, out_offset, lo, hi)`.
    #[inline(always)]
    pub(crate) fn apply(&self, acc: i32) -> i8 {
        // `x.wrapping_shl(l)` == `x.wrapping_mul(1i32.wrapping_shl(l))`: both shift by l mod 32.
        let shifted = acc.wrapping_shl(self.left);
        let v = rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, self.multiplier), self.right);
        clamp_to_i8(v.wrapping_add(self.out_offset), self.lo, self.hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_form_matches_division_form() {
        let mut s = 1u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 32) as i32
        };
        let edges = [0, 1, -1, 2, -2, i32::MIN, i32::MIN + 1, i32::MAX, 1 << 30, -(1 << 30), 3, -3];
        for &a in &edges {
            for &b in &edges {
                assert_eq!(saturating_rounding_doubling_high_mul(a, b), srdhm_by_division(a, b), "{a} {b}");
            }
        }
        for _ in 0..200_000 {
            let (a, b) = (next(), next());
            let a = if a & 1 == 0 { a >> (a as u32 & 31) } else { a };
            assert_eq!(saturating_rounding_doubling_high_mul(a, b), srdhm_by_division(a, b), "{a} {b}");
        }
    }

    #[test]
    fn requant_matches_requantize_acc() {
        let mut s = 5u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 32) as i32
        };
        for _ in 0..100_000 {
            let acc = next() >> (next() as u32 & 31);
            let m = (next() as u32 >> 1) as i32 | (1 << 30);
            let shift = (next() & 31) - 20;
            let q = Requant::new(m, shift, -5, -128, 100);
            assert_eq!(q.apply(acc), requantize_acc(acc, m, shift, -5, -128, 100));
        }
    }

    #[test]
    fn high_mul_rounding() {
        // 0.5 -> 1 but -0.5 -> 0: gemmlowp's negative nudge is 1 - 2^30, so negative
        // ties round toward zero (TFLM inherits this asymmetry).
        assert_eq!(saturating_rounding_doubling_high_mul(1, 1 << 30), 1);
        assert_eq!(saturating_rounding_doubling_high_mul(-1, 1 << 30), 0);
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
        assert_eq!(saturating_rounding_doubling_high_mul(1000, i32::MAX), 1000);
    }

    #[test]
    fn divide_by_pot_ties_away_from_zero() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(4, 1), 2);
        assert_eq!(rounding_divide_by_pot(-7, 2), -2);
        assert_eq!(rounding_divide_by_pot(7, 0), 7);
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
    }

    #[test]
    fn multiplier_half_scales_by_half() {
        // 0.5 == (1<<30) * 2^(0-31)
        assert_eq!(multiply_by_quantized_multiplier(100, 1 << 30, 0), 50);
        assert_eq!(multiply_by_quantized_multiplier(101, 1 << 30, 0), 51);
        assert_eq!(multiply_by_quantized_multiplier(-101, 1 << 30, 0), -50);
        // 0.75 * 2^2 = 3
        assert_eq!(multiply_by_quantized_multiplier(7, 3 << 29, 2), 21);
        assert_eq!(multiply_by_quantized_multiplier(7, 3 << 29, -3), 1); // 7*0.75/8 = 0.656
    }
}
