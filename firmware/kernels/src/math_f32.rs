//! float32 elementwise math as TFLM's `elementwise.cc`, `exp.cc` and `neg.cc` compute it:
//! ABS, NEG, SQUARE, SQRT, RSQRT (`1 / sqrt(x)`), EXP, LOG, SIN, COS.
//!
//! TFLM calls the C library; these call `libm` (the Rust port of musl's), whose sqrtf is
//! correctly rounded like every IEEE sqrt and whose expf/logf/sinf/cosf are within an ulp
//! of glibc's, so float outputs agree to the checker's relative 1e-5, not always to the bit.
use crate::tile::{for_each_in_tile, Out, Shape4, Tile};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MathF32 {
    Abs,
    Neg,
    Square,
    Sqrt,
    Rsqrt,
    Exp,
    Log,
    Sin,
    Cos,
}

impl MathF32 {
    #[inline]
    pub fn eval(self, x: f32) -> f32 {
        match self {
            MathF32::Abs => libm::fabsf(x),
            MathF32::Neg => -x,
            MathF32::Square => x * x,
            MathF32::Sqrt => libm::sqrtf(x),
            MathF32::Rsqrt => 1.0 / libm::sqrtf(x),
            MathF32::Exp => libm::expf(x),
            MathF32::Log => libm::logf(x),
            MathF32::Sin => libm::sinf(x),
            MathF32::Cos => libm::cosf(x),
        }
    }
}

/// `op` over the tile's elements of an NHWC tensor (rows = H, channels = C). The match is
/// outside the loop: each arm is its own loop with the function inlined.
pub fn math_f32(op: MathF32, s: Shape4, input: &[f32], output: Out<'_, f32>, tile: &Tile) {
    macro_rules! each {
        ($f:expr) => {
            for_each_in_tile(s, tile, |i| output[i].set($f(input[i])))
        };
    }
    match op {
        MathF32::Abs => each!(libm::fabsf),
        MathF32::Neg => each!(|x: f32| -x),
        MathF32::Square => each!(|x: f32| x * x),
        MathF32::Sqrt => each!(libm::sqrtf),
        MathF32::Rsqrt => each!(|x: f32| 1.0 / libm::sqrtf(x)),
        MathF32::Exp => each!(libm::expf),
        MathF32::Log => each!(libm::logf),
        MathF32::Sin => each!(libm::sinf),
        MathF32::Cos => each!(libm::cosf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tile::cells;

    #[test]
    fn agrees_with_std_and_respects_the_tile() {
        let s = Shape4::new(1, 2, 1, 3);
        let x = [0.25f32, 4.0, 9.0, 2.0, 0.5, 100.0];
        let ops = [MathF32::Abs, MathF32::Neg, MathF32::Square, MathF32::Sqrt, MathF32::Rsqrt,
                   MathF32::Exp, MathF32::Log, MathF32::Sin, MathF32::Cos];
        for op in ops {
            let mut y = [7.0f32; 6];
            math_f32(op, s, &x, cells(&mut y), &Tile::new(1..2, 0..2));
            assert_eq!(&y[..3], &[7.0; 3], "{op:?} wrote outside its tile");
            assert_eq!(y[5], 7.0);
            for i in 3..5 {
                let want = match op {
                    MathF32::Abs => x[i].abs(), MathF32::Neg => -x[i], MathF32::Square => x[i] * x[i],
                    MathF32::Sqrt => x[i].sqrt(), MathF32::Rsqrt => 1.0 / x[i].sqrt(),
                    MathF32::Exp => x[i].exp(), MathF32::Log => x[i].ln(),
                    MathF32::Sin => x[i].sin(), MathF32::Cos => x[i].cos(),
                };
                assert!((y[i] - want).abs() <= want.abs() * 2e-7, "{op:?}({}) = {} want {want}", x[i], y[i]);
                assert_eq!(op.eval(x[i]), y[i]);
            }
        }
        assert_eq!(MathF32::Sqrt.eval(2.0), 2f32.sqrt()); // correctly rounded
        assert!(MathF32::Log.eval(-1.0).is_nan());
    }
}
