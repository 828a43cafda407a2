//! The gemmlowp fixed-point transcendental functions TFLM's int8 SOFTMAX, LOGISTIC and TANH
//! are built on. Values are raw i32 with an implied number of integer bits (Q(i).(31-i)).
use crate::requant::{rounding_divide_by_pot, saturating_rounding_doubling_high_mul as mul};

/// `x * 2^exp` saturating for exp > 0, rounding for exp < 0 (gemmlowp's
/// `SaturatingRoundingMultiplyByPOT`).
#[inline]
pub fn saturating_rounding_multiply_by_pot(x: i32, exp: i32) -> i32 {
    if exp > 0 {
        let threshold = ((1i64 << (31 - exp)) - 1) as i32;
        if x > threshold {
            i32::MAX
        } else if x < -threshold {
            i32::MIN
        } else {
            x << exp
        }
    } else if exp < 0 {
        rounding_divide_by_pot(x, -exp)
    } else {
        x
    }
}

/// Re-expresses a value with `from` integer bits as one with `to` integer bits.
#[inline]
pub fn rescale(x: i32, from: i32, to: i32) -> i32 {
    saturating_rounding_multiply_by_pot(x, from - to)
}

/// 1.0 in Q0.31 is not representable; gemmlowp uses the largest value instead.
pub const ONE_Q0: i32 = i32::MAX;

/// exp(x) for x in [-1/4, 0), Q0.31 in and out: Taylor series around -1/8.
fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
    const EXP_MINUS_ONE_EIGHTH: i32 = 1_895_147_668;
    const ONE_THIRD: i32 = 715_827_883;
    let x = a.wrapping_add(1 << 28);
    let x2 = mul(x, x);
    let x3 = mul(x2, x);
    let x4 = mul(x2, x2);
    let x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2);
    let poly = saturating_rounding_multiply_by_pot(mul(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2), -1);
    EXP_MINUS_ONE_EIGHTH.wrapping_add(mul(EXP_MINUS_ONE_EIGHTH, x.wrapping_add(poly)))
}

/// exp(a) for a <= 0 with `int_bits` integer bits in, Q0.31 out (gemmlowp
/// `exp_on_negative_values`): the fraction mod 1/4 by series, the rest by a barrel of
/// precomputed exp(-2^k) factors.
pub fn exp_on_negative_values(a: i32, int_bits: i32) -> i32 {
    let frac_bits = 31 - int_bits;
    let one_quarter = 1i32 << (frac_bits - 2);
    let mask = one_quarter - 1;
    let a_mod_quarter_minus_quarter = (a & mask).wrapping_sub(one_quarter);
    let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(rescale(
        a_mod_quarter_minus_quarter,
        int_bits,
        0,
    ));
    let remainder = a_mod_quarter_minus_quarter.wrapping_sub(a);
    // exp(-2^k) in Q0.31 for k = -2..=4
    const BARREL: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    for (exponent, factor) in BARREL {
        if int_bits > exponent {
            let bit = frac_bits + exponent;
            if remainder & (1i32 << bit) != 0 {
                result = mul(result, factor);
            }
        }
    }
    if int_bits > 5 {
        // Below -32 the barrel underflows anyway; gemmlowp returns exactly 0 there.
        let minus_32 = -(1i32 << (36 - int_bits));
        if a < minus_32 {
            result = 0;
        }
    }
    if a == 0 {
        result = ONE_Q0;
    }
    result
}

/// `(a + b) / 2` rounded half away from zero, without overflow.
#[inline]
fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = a as i64 + b as i64;
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// Newton-Raphson for 1/(1+a), shared by the two functions below; returns Q2.29.
fn newton_reciprocal_half(half_denominator: i32) -> i32 {
    const C48_OVER_17: i32 = 1_515_870_810;
    const NEG_C32_OVER_17: i32 = -1_010_580_540;
    const ONE_Q2: i32 = 1 << 29;
    let mut x = C48_OVER_17.wrapping_add(mul(half_denominator, NEG_C32_OVER_17));
    for _ in 0..3 {
        let hdx = mul(half_denominator, x);
        let one_minus = ONE_Q2.wrapping_sub(hdx);
        x = x.wrapping_add(rescale(mul(x, one_minus), 4, 2));
    }
    x
}

/// 1 / (1 + a) for a in [0, 1), Q0.31 in and out.
pub fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    let x = newton_reciprocal_half(rounding_half_sum(a, ONE_Q0));
    // x / 2 reinterpreted as Q1.30, then brought to Q0.31.
    rescale(x, 1, 0)
}

/// (1 - a) / (1 + a) for a in [0, 1), Q0.31 in and out.
pub fn one_minus_x_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    let x = newton_reciprocal_half(rounding_half_sum(a, ONE_Q0));
    rescale(x.wrapping_sub(1 << 29), 2, 0)
}

/// Logistic of a value with `int_bits` integer bits; Q0.31 out.
pub fn logistic(a: i32, int_bits: i32) -> i32 {
    if a == 0 {
        return 1 << 30;
    }
    let abs = if a > 0 { a } else { a.wrapping_neg() };
    let pos = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(abs.wrapping_neg(), int_bits));
    if a > 0 {
        pos
    } else {
        ONE_Q0.wrapping_sub(pos)
    }
}

/// tanh of a value with `int_bits` integer bits; Q0.31 out.
pub fn tanh(a: i32, int_bits: i32) -> i32 {
    if a == 0 {
        return 0;
    }
    let neg_abs = if a < 0 { a } else { a.wrapping_neg() };
    // exp(2 * n): the raw value reinterpreted with one more integer bit.
    let t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(neg_abs, int_bits + 1));
    if a < 0 {
        t.wrapping_neg()
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q0(x: i32) -> f64 {
        x as f64 / 2f64.powi(31)
    }

    #[test]
    fn exp_is_close_to_libm() {
        for i in 0..200 {
            let v = -(i as f64) * 0.1; // Q5.26
            let raw = (v * 2f64.powi(26)) as i32;
            let got = q0(exp_on_negative_values(raw, 5));
            assert!((got - (raw as f64 / 2f64.powi(26)).exp()).abs() < 1e-6, "{v}");
        }
    }

    #[test]
    fn reciprocal_logistic_tanh_close() {
        for i in 0..100 {
            let a = i as f64 / 100.0;
            let r = q0(one_over_one_plus_x_for_x_in_0_1((a * 2f64.powi(31)) as i32));
            assert!((r - 1.0 / (1.0 + a)).abs() < 1e-6);
        }
        for i in -80..80 {
            let v = i as f64 / 10.0;
            let raw = (v * 2f64.powi(27)) as i32; // Q4.27
            let x = raw as f64 / 2f64.powi(27);
            assert!((q0(logistic(raw, 4)) - 1.0 / (1.0 + (-x).exp())).abs() < 1e-6);
            assert!((q0(tanh(raw, 4)) - x.tanh()).abs() < 1e-6);
        }
    }
}
