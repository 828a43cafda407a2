//! float32 LOGISTIC and TANH, and the `core`-only exp/tanh they need.
//!
//! TFLM calls the C library here, so results can differ from it by an ulp or two; the
//! tests bound the relative error (1e-5) instead of comparing bytes.
use crate::softmax::libm_expf;
use crate::tile::{for_each_in_tile, Out, Shape4, Tile};

/// TFLM's reference LOGISTIC: exact 1.0 above its upper cutoff, exp(x) below -9 (where
/// 1/(1+e^-x) and e^x agree to float precision), the plain formula in between.
#[inline]
pub fn logistic(x: f32) -> f32 {
    const CUTOFF_UPPER: f32 = 16.619_047;
    const CUTOFF_LOWER: f32 = -9.0;
    if x > CUTOFF_UPPER {
        1.0
    } else if x < CUTOFF_LOWER {
        libm_expf(x)
    } else {
        1.0 / (1.0 + libm_expf(-x))
    }
}

/// e^y - 1 for |y| <= 0.7 by its Taylor series (degree 9: truncation below 2e-8
/// relative), which keeps small results accurate where exp(y) - 1 would cancel.
#[inline]
fn expm1_small(y: f32) -> f32 {
    let mut t = 1.0 / 362_880.0;
    for k in (1..9).rev() {
        t = 1.0 / FACT[k] + y * t;
    }
    y * t
}

/// k! for k in 0..9: `expm1_small` evaluates y * sum(y^(k-1) / k!) by Horner's rule.
const FACT: [f32; 9] = [1.0, 1.0, 2.0, 6.0, 24.0, 120.0, 720.0, 5040.0, 40320.0];

#[inline]
pub fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let t = if a > 9.1 {
        1.0 // tanh(9.1) rounds to 1.0 in float32
    } else if a < 0.35 {
        let em = expm1_small(-2.0 * a);
        -em / (2.0 + em)
    } else {
        // e <= 0.5 here, so 1 - e loses nothing.
        let e = libm_expf(-2.0 * a);
        (1.0 - e) / (1.0 + e)
    };
    if x < 0.0 {
        -t
    } else {
        t
    }
}

pub fn logistic_f32(s: Shape4, input: &[f32], output: Out<'_, f32>, tile: &Tile) {
    for_each_in_tile(s, tile, |i| output[i].set(logistic(input[i])));
}

pub fn tanh_f32(s: Shape4, input: &[f32], output: Out<'_, f32>, tile: &Tile) {
    for_each_in_tile(s, tile, |i| output[i].set(tanh(input[i])));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_to_f64_reference() {
        for i in -4000..4000 {
            let x = i as f32 * 0.005 + 1e-4;
            let want_t = (x as f64).tanh();
            // Below -9 TFLM returns e^x itself (off from the logistic by about e^x relative).
            let want_l = if x < -9.0 { (x as f64).exp() } else { 1.0 / (1.0 + (-(x as f64)).exp()) };
            assert!(((tanh(x) as f64 - want_t) / want_t).abs() < 2e-6, "tanh {x}");
            assert!(((logistic(x) as f64 - want_l) / want_l).abs() < 2e-6, "logistic {x}");
        }
        assert_eq!(tanh(0.0), 0.0);
        assert!((logistic(-95.0) as f64 / (-95f64).exp() - 1.0).abs() < 1e-3);
    }
}
