//! MEAN, SUM, REDUCE_MAX and REDUCE_MIN over any set of axes, int8 and float32, as TFLM
//! computes them.
//!
//! int8 SUM is MEAN's integer path without the `1/count` fold (TFLM's QuantizedMeanOrSum with
//! `compute_sum`), so it runs `mean_s8` with `quant.sum_params`. REDUCE_MAX/MIN compare raw
//! values (TFLM requires equal input and output quantization), starting from the type's
//! lowest/highest value with `in > current ? in : current`, so a float NaN is skipped.
//!
//! TFLM's int8 MEAN (every axis set, keep_dims or not) sums in int32, subtracts
//! `zero_point * count` once, and requantizes with the input/output multiplier into which
//! Eval folds `1/count` (`arielml.quant.mean_params` does that fold ahead of time).
//! float32 sums in the input's row-major order and divides by the count, as TFLM does.
//!
//! The output shape is the input's with reduced dims set to 1: keep_dims only changes
//! the rank, never the flat layout. Tiles follow [`ShapeN`]'s convention on the output.
use crate::requant::multiply_by_quantized_multiplier;
use crate::tile::{for_each_in_tile_n, Out, ShapeN, Tile, MAX_RANK};

/// The reduction geometry shared by both types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReduceShape {
    pub input: ShapeN,
    /// `axes[d]` is true for every reduced dim of the (rank-5 padded) input.
    pub axes: [bool; MAX_RANK],
}

impl ReduceShape {
    pub fn output(&self) -> ShapeN {
        ShapeN(core::array::from_fn(|d| if self.axes[d] { 1 } else { self.input.0[d] }))
    }
    /// Number of input elements behind each output element.
    pub fn count(&self) -> usize {
        (0..MAX_RANK).filter(|&d| self.axes[d]).map(|d| self.input.0[d]).product()
    }
}

/// Visits, in row-major order, the input offsets that reduce into output index `idx`.
#[inline]
fn for_each_reduced(r: &ReduceShape, idx: &[usize; MAX_RANK], mut f: impl FnMut(usize)) {
    let st = r.input.strides();
    let range = |d: usize| if r.axes[d] { 0..r.input.0[d] } else { idx[d]..idx[d] + 1 };
    for a in range(0) {
        for b in range(1) {
            for c in range(2) {
                for e in range(3) {
                    let base = a * st[0] + b * st[1] + c * st[2] + e * st[3];
                    for g in range(4) {
                        f(base + g);
                    }
                }
            }
        }
    }
}

params! {
    /// int8 MEAN parameters: `multiplier`/`shift` already include the `1/count` fold.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct MeanParams {
        given {
            pub shape: ReduceShape,
        }
        pub input_zero_point: i32,
        pub output_zero_point: i32,
        pub multiplier: i32,
        pub shift: i32,
    }
}

pub fn mean_s8(p: &MeanParams, input: &[i8], output: Out<'_, i8>, tile: &Tile) {
    let zp_times_count = p.input_zero_point as i64 * p.shape.count() as i64;
    for_each_in_tile_n(&p.shape.output(), tile, |idx, o| {
        let mut sum: i32 = 0;
        for_each_reduced(&p.shape, idx, |i| sum = sum.wrapping_add(input[i] as i32));
        // TFLM subtracts in 64 bits and narrows; only absurd sizes would wrap.
        let shifted = (sum as i64 - zp_times_count) as i32;
        let v = multiply_by_quantized_multiplier(shifted, p.multiplier, p.shift) + p.output_zero_point;
        output[o].set(v.clamp(-128, 127) as i8);
    });
}

pub fn mean_f32(r: &ReduceShape, input: &[f32], output: Out<'_, f32>, tile: &Tile) {
    let count = r.count() as f32;
    for_each_in_tile_n(&r.output(), tile, |idx, o| {
        let mut sum = 0.0f32;
        for_each_reduced(r, idx, |i| sum += input[i]);
        output[o].set(sum / count);
    });
}

pub fn sum_f32(r: &ReduceShape, input: &[f32], output: Out<'_, f32>, tile: &Tile) {
    for_each_in_tile_n(&r.output(), tile, |idx, o| {
        let mut sum = 0.0f32;
        for_each_reduced(r, idx, |i| sum += input[i]);
        output[o].set(sum);
    });
}

/// A value type REDUCE_MAX/MIN start from: TFLM's `numeric_limits<T>::lowest()`/`max()`.
pub trait Bounded: Copy + PartialOrd {
    const LOWEST: Self;
    const HIGHEST: Self;
}

impl Bounded for i8 {
    const LOWEST: i8 = i8::MIN;
    const HIGHEST: i8 = i8::MAX;
}

impl Bounded for f32 {
    const LOWEST: f32 = f32::MIN;
    const HIGHEST: f32 = f32::MAX;
}

pub fn reduce_max<T: Bounded>(r: &ReduceShape, input: &[T], output: Out<'_, T>, tile: &Tile) {
    for_each_in_tile_n(&r.output(), tile, |idx, o| {
        let mut m = T::LOWEST;
        for_each_reduced(r, idx, |i| m = if input[i] > m { input[i] } else { m });
        output[o].set(m);
    });
}

pub fn reduce_min<T: Bounded>(r: &ReduceShape, input: &[T], output: Out<'_, T>, tile: &Tile) {
    for_each_in_tile_n(&r.output(), tile, |idx, o| {
        let mut m = T::HIGHEST;
        for_each_reduced(r, idx, |i| m = if input[i] < m { input[i] } else { m });
        output[o].set(m);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tile::cells;

    #[test]
    fn mean_over_hw_rounds_like_tflm() {
        // 1x2x2x2 NHWC, mean over H and W; scale ratio 1 folded with 1/4: (1<<30, -1).
        let shape = ReduceShape { input: ShapeN([1, 1, 2, 2, 2]), axes: [false, false, true, true, false] };
        let p = MeanParams { shape, input_zero_point: 1, output_zero_point: -2, multiplier: 1 << 30, shift: -1 };
        let x = [1i8, 10, 2, 20, 3, 30, 5, -100];
        let mut y = [0i8; 2];
        mean_s8(&p, &x, cells(&mut y), &Tile::new(0..1, 0..2));
        // ch0: (11 - 4) / 4 = 1.75 -> 2, -2 = 0 ; ch1: (-40 - 4) / 4 = -11 -> -13
        assert_eq!(y, [0, -13]);
        let mut f = [0f32; 2];
        let xf: [f32; 8] = core::array::from_fn(|i| x[i] as f32);
        mean_f32(&shape, &xf, cells(&mut f), &Tile::new(0..1, 1..2));
        assert_eq!(f, [0.0, -10.0]);
        let mut m = [0i8; 2];
        reduce_max(&shape, &x, cells(&mut m), &Tile::new(0..1, 0..2));
        assert_eq!(m, [5, 30]);
        reduce_min(&shape, &x, cells(&mut m), &Tile::new(0..1, 0..2));
        assert_eq!(m, [1, -100]);
        let mut sf = [0f32; 2];
        let mut xn = xf;
        xn[0] = f32::NAN;
        sum_f32(&shape, &xf, cells(&mut sf), &Tile::new(0..1, 0..2));
        assert_eq!(sf, [11.0, -40.0]);
        reduce_max(&shape, &xn, cells(&mut sf), &Tile::new(0..1, 0..1));
        assert_eq!(sf[0], 5.0); // the NaN is skipped, as TFLM's comparison does
    }
}
