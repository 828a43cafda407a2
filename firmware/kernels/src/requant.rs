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
    #[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
    {
        srdhm_by_halves(a, b)
    }
    #[cfg(not(all(target_arch = "arm", not(target_has_atomic = "32"))))]
    {
        srdhm_i64(a, b)
    }
}

#[inline(always)]
#[allow(dead_code)] // used off Armv6-M and by the tests
fn srdhm_i64(a: i32, b: i32) -> i32 {
    // gemmlowp computes `trunc((ab + nudge) / 2^31)` with nudge `2^30` for ab >= 0 and
    // `1 - 2^30` below. For ab < 0 that is `ceil((ab + 1 - 2^30) / 2^31)`
    // = `floor((ab + 1 - 2^30 + 2^31 - 1) / 2^31)` = `floor((ab + 2^30) / 2^31)`, the same
    // expression as for ab >= 0, so one arithmetic shift does both (no branch, no division).
    ((a as i64 * b as i64 + (1i64 << 30)) >> 31) as i32
}

/// `(a * b + 2^30) >> 31` without a 64-bit multiply (Armv6-M has none; an i64 product is
/// a library call there): the 64-bit product from four 16-bit ones, as (hi, lo) words,
/// then the rounding constant added with its carry. Equal to [`srdhm_i64`] for every
/// pair (tested).
#[inline(always)]
#[allow(dead_code)] // used on Armv6-M and by the tests
fn srdhm_by_halves(a: i32, b: i32) -> i32 {
    let (al, ah) = (a & 0xffff, a >> 16);
    let (bl, bh) = (b & 0xffff, b >> 16);
    let lo0 = (al as u32).wrapping_mul(bl as u32);
    let (m1, m2) = (ah.wrapping_mul(bl), al.wrapping_mul(bh));
    // a * b = (ah bh + m1_hi + m2_hi) 2^32 + (m1_lo + m2_lo) 2^16 + lo0, m_lo in 0..2^16.
    let mid_lo = (m1 & 0xffff) as u32 + (m2 & 0xffff) as u32;
    let (lo, c1) = lo0.overflowing_add(mid_lo << 16);
    let hi = ah.wrapping_mul(bh).wrapping_add(m1 >> 16).wrapping_add(m2 >> 16)
        .wrapping_add((mid_lo >> 16) as i32).wrapping_add(c1 as i32);
    let (lo, c2) = lo.overflowing_add(1 << 30);
    let hi = hi.wrapping_add(c2 as i32);
    (hi << 1) | (lo >> 31) as i32
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
    let mask = ((1u32 << (exponent as u32 & 31)) - 1) as i32;
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

/// `round(a * b / 2^32)` (ties up): the DSP extension's SMMULR; on Armv6-M, which has no
/// 32 x 32 -> 64 multiply (an i64 product is a library call there), from four 16-bit
/// products ([`smmulr_by_halves`]); elsewhere the i64 product.
#[inline(always)]
pub(crate) fn smmulr(a: i32, b: i32) -> i32 {
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    {
        let r: i32;
        // SAFETY: a register-only DSP instruction (the cfg guarantees the extension).
        unsafe {
            core::arch::asm!("smmulr {r}, {a}, {b}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b,
                options(pure, nomem, nostack, preserves_flags))
        };
        r
    }
    #[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
    {
        smmulr_by_halves(a, b)
    }
    #[cfg(not(any(all(target_arch = "arm", target_feature = "dsp"), all(target_arch = "arm", not(target_has_atomic = "32")))))]
    {
        ((a as i64 * b as i64 + (1i64 << 31)) >> 32) as i32
    }
}

/// `round(a * b / 2^32)` from 32-bit products of 16-bit halves: with `a = ah 2^16 + al`
/// (al unsigned) and the same for b, `ab + 2^31 = 2^32 (ah bh + m1_hi + m2_hi) + 2^16 L +
/// (lo mod 2^16)` where `m1 = ah bl`, `m2 = al bh` (both exact in i32), `lo = al bl`
/// (exact in u32) and `L = lo / 2^16 + m1 mod 2^16 + m2 mod 2^16 + 2^15 < 2^18`; the low
/// 16 bits cannot carry, so the result is `ah bh + m1_hi + m2_hi + L / 2^16`.
#[inline(always)]
#[allow(dead_code)] // used on Armv6-M and by the tests
pub(crate) fn smmulr_by_halves(a: i32, b: i32) -> i32 {
    let (al, ah) = (a & 0xffff, a >> 16);
    let (bl, bh) = (b & 0xffff, b >> 16);
    let lo = (al as u32).wrapping_mul(bl as u32);
    let m1 = ah.wrapping_mul(bl);
    let m2 = al.wrapping_mul(bh);
    let low = (lo >> 16) as i32 + (m1 & 0xffff) + (m2 & 0xffff) + (1 << 15);
    ah.wrapping_mul(bh).wrapping_add(m1 >> 16).wrapping_add(m2 >> 16).wrapping_add(low >> 16)
}

/// One output channel's requantization where the compiler has shown, from the weights,
/// the bias and the scales, that the exact path can be shortened: `shift <= -1` (an
/// effective scale below 1/2: no left shift) and every accumulator `|acc| < 2^30`. Then
/// TFLM's `SaturatingRoundingDoublingHighMul(acc, m)` is exactly `SMMULR(2 * acc, m)` (no
/// saturation case, no 64-bit shift) and `RoundingDivideByPOT(x, right)` is
/// `(x + 2^(right-1) - (x < 0)) >> right` (no overflow: `|x| < 2^30`). Equal to
/// [`Requant::apply`] on every such accumulator (tested below).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FastRequant {
    multiplier: i32,
    /// `right - 1` = `!shift` for `shift` in -31..=-1.
    right_less_one: u32,
    out_offset: i32,
    lo: i32,
    hi: i32,
}

impl FastRequant {
    /// `shift <= -1` (checked by the compiler for every channel of the op).
    #[inline(always)]
    pub(crate) fn new(multiplier: i32, shift: i32, out_offset: i32, lo: i32, hi: i32) -> Self {
        FastRequant { multiplier, right_less_one: !shift as u32 & 31, out_offset, lo, hi }
    }

    /// `(x + 2^(r-1) - (x < 0)) >> r` as `(((x - (x < 0)) >> (r - 1)) + 1) >> 1`: with
    /// `y = x - (x < 0)` and `h = 2^(r-1)`, `floor((y + h) / 2h) = floor((floor(y / h) + 1) / 2)`,
    /// and `r - 1` is `!shift`, one instruction.
    #[inline(always)]
    pub(crate) fn apply(&self, acc: i32) -> i8 {
        let x = smmulr(acc.wrapping_add(acc), self.multiplier);
        let y = x.wrapping_add(x >> 31) >> self.right_less_one;
        clamp_to_i8((y.wrapping_add(1) >> 1).wrapping_add(self.out_offset), self.lo, self.hi)
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

    #[test]
    fn srdhm_by_halves_matches_the_i64_form() {
        let mut s = 7u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 32) as i32
        };
        let edges = [0, 1, -1, 0xffff, 0x10000, -0x10000, 0x7fff, -0x8000, i32::MIN + 1, i32::MAX, 1 << 30, -(1 << 30), 3];
        for &a in &edges {
            for &b in &edges {
                assert_eq!(srdhm_by_halves(a, b), srdhm_i64(a, b), "{a} {b}");
            }
        }
        assert_eq!(srdhm_by_halves(i32::MIN, i32::MAX), srdhm_i64(i32::MIN, i32::MAX));
        for _ in 0..400_000 {
            let (a, b) = (next(), next());
            let a = if a & 1 == 0 { a >> (b as u32 & 31) } else { a };
            if a == i32::MIN && b == i32::MIN {
                continue;
            }
            assert_eq!(srdhm_by_halves(a, b), srdhm_i64(a, b), "{a} {b}");
        }
    }

    #[test]
    fn smmulr_by_halves_is_the_rounded_high_product() {
        let mut s = 5u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 32) as i32
        };
        let edges = [0, 1, -1, 0xffff, 0x10000, -0x10000, 0x7fff, -0x8000, i32::MIN, i32::MAX, i32::MIN + 1, 1 << 30];
        let want = |a: i32, b: i32| ((a as i64 * b as i64 + (1i64 << 31)) >> 32) as i32;
        for &a in &edges {
            for &b in &edges {
                assert_eq!(smmulr_by_halves(a, b), want(a, b), "{a} {b}");
            }
        }
        for _ in 0..400_000 {
            let (a, b) = (next(), next());
            let a = if a & 1 == 0 { a >> (b as u32 & 31) } else { a };
            assert_eq!(smmulr_by_halves(a, b), want(a, b), "{a} {b}");
        }
    }

    #[test]
    fn fast_requant_matches_exact_on_bounded_accumulators() {
        let mut s = 9u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 32) as i32
        };
        for i in 0..400_000 {
            let m = (next() as u32 >> 1) as i32 | (1 << 30);
            let shift = -1 - (next() & 31).min(30);
            let acc = match i % 4 {
                0 => (next() >> 2) | 1,
                1 => -(1 << 30) + 1 + (next() & 7),
                2 => (1 << 30) - 1 - (next() & 7),
                _ => (next() >> 2) >> (next() as u32 & 31),
            };
            let (lo, hi) = if next() & 1 == 0 { (-128, 127) } else { (-20, 100) };
            let off = (next() >> 24).clamp(-128, 127);
            let want = Requant::new(m, shift, off, lo, hi).apply(acc);
            assert_eq!(FastRequant::new(m, shift, off, lo, hi).apply(acc), want, "{acc} {m} {shift}");
        }
    }
}
