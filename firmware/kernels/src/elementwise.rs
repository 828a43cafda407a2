//! ADD, SUB, MUL and SQUARED_DIFFERENCE: int8 (TFLM's rescale-to-common-scale scheme) and
//! float32; float32 DIV; MAXIMUM and MINIMUM over raw values; with NumPy-style broadcasting
//! over up to four dimensions.
use crate::requant::{
    multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_smaller_than_one_exp as mbqm_exp,
};
use crate::tile::{Out, Shape4, Tile};

/// Shapes of a binary op; an input dim of size 1 broadcasts against the output dim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BinaryShapes {
    pub input1: Shape4,
    pub input2: Shape4,
    pub output: Shape4,
}

params! {
    /// TFLM's `ArithmeticParams` for int8 ADD/SUB (all fields) and MUL (offsets, output
    /// multiplier and clamp only). `input*_offset` is the negated zero point.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
    pub struct ArithmeticParams {
        pub input1_offset: i32,
        pub input2_offset: i32,
        pub output_offset: i32,
        pub left_shift: i32,
        pub input1_multiplier: i32,
        pub input1_shift: i32,
        pub input2_multiplier: i32,
        pub input2_shift: i32,
        pub output_multiplier: i32,
        pub output_shift: i32,
        pub act_min: i32,
        pub act_max: i32,
    }
}

#[inline]
fn bcast(s: &Shape4, n: usize, h: usize, w: usize, c: usize) -> usize {
    let pick = |dim: usize, i: usize| if dim == 1 { 0 } else { i };
    s.offset(pick(s.n, n), pick(s.h, h), pick(s.w, w), pick(s.c, c))
}

/// Applies `f` to every output element of the tile (rows = dim 1, channels = dim 3).
#[inline]
fn binary_tiled<T: Copy, U>(s: &BinaryShapes, a: &[T], b: &[T], out: Out<'_, U>, tile: &Tile, f: impl Fn(T, T) -> U) {
    let o = &s.output;
    let (rows, chans) = tile.clip(o.h, o.c);
    if s.input1 == *o && s.input2 == *o {
        // No broadcasting (a residual ADD): the three tensors share every offset, and the
        // tile's channels of one pixel, or whole rows when it has all channels, are one run.
        let (a, b) = (&a[..o.len()], &b[..o.len()]);
        let out = &out[..o.len()];
        let run = |start: usize, len: usize| {
            for ((y, &x), &z) in out[start..start + len].iter().zip(&a[start..start + len]).zip(&b[start..start + len]) {
                y.set(f(x, z));
            }
        };
        for n in 0..o.n {
            if chans.start == 0 && chans.end == o.c {
                let row = o.w * o.c;
                run(o.offset(n, rows.start, 0, 0), row * rows.len());
            } else {
                for h in rows.clone() {
                    for w in 0..o.w {
                        run(o.offset(n, h, w, chans.start), chans.len());
                    }
                }
            }
        }
        return;
    }
    for n in 0..o.n {
        for h in rows.clone() {
            for w in 0..o.w {
                for c in chans.clone() {
                    let x = a[bcast(&s.input1, n, h, w, c)];
                    let y = b[bcast(&s.input2, n, h, w, c)];
                    out[o.offset(n, h, w, c)].set(f(x, y));
                }
            }
        }
    }
}

/// Both inputs brought to a common scale with 20 bits of headroom (TFLM's `AddFunc`).
#[inline]
fn rescaled(p: &ArithmeticParams, x: i8, y: i8) -> (i32, i32) {
    let a = (p.input1_offset + x as i32) * (1 << p.left_shift);
    let b = (p.input2_offset + y as i32) * (1 << p.left_shift);
    (mbqm_exp(a, p.input1_multiplier, p.input1_shift), mbqm_exp(b, p.input2_multiplier, p.input2_shift))
}

#[inline]
fn finish(p: &ArithmeticParams, raw: i32) -> i8 {
    let v = mbqm_exp(raw, p.output_multiplier, p.output_shift) + p.output_offset;
    v.max(p.act_min).min(p.act_max) as i8
}

pub fn add_s8(p: &ArithmeticParams, s: &BinaryShapes, a: &[i8], b: &[i8], out: Out<'_, i8>, tile: &Tile) {
    binary_tiled(s, a, b, out, tile, |x, y| {
        let (u, v) = rescaled(p, x, y);
        finish(p, u.wrapping_add(v))
    });
}

pub fn sub_s8(p: &ArithmeticParams, s: &BinaryShapes, a: &[i8], b: &[i8], out: Out<'_, i8>, tile: &Tile) {
    binary_tiled(s, a, b, out, tile, |x, y| {
        let (u, v) = rescaled(p, x, y);
        finish(p, u.wrapping_sub(v))
    });
}

/// int8 MUL: one requantization of the product of the offset inputs.
pub fn mul_s8(p: &ArithmeticParams, s: &BinaryShapes, a: &[i8], b: &[i8], out: Out<'_, i8>, tile: &Tile) {
    binary_tiled(s, a, b, out, tile, |x, y| {
        let prod = (p.input1_offset + x as i32) * (p.input2_offset + y as i32);
        let v = p.output_offset + multiply_by_quantized_multiplier(prod, p.output_multiplier, p.output_shift);
        v.max(p.act_min).min(p.act_max) as i8
    });
}

/// int8 SQUARED_DIFFERENCE (TFLM's `SquaredDifference<int8_t>`): both inputs to a common
/// scale as for ADD (left shift 7), the difference squared in 32 bits, then one general
/// requantization (`MultiplyByQuantizedMultiplier`, the multiplier may exceed one).
pub fn squared_difference_s8(p: &ArithmeticParams, s: &BinaryShapes, a: &[i8], b: &[i8], out: Out<'_, i8>, tile: &Tile) {
    binary_tiled(s, a, b, out, tile, |x, y| {
        let (u, v) = rescaled(p, x, y);
        let d = u.wrapping_sub(v);
        let raw = multiply_by_quantized_multiplier(d.wrapping_mul(d), p.output_multiplier, p.output_shift);
        (raw + p.output_offset).max(p.act_min).min(p.act_max) as i8
    });
}

/// An int8 ADD/SUB/MUL whose output overwrites one operand (`io`): operand 1 when `first`,
/// else operand 2, the other operand is `other`. Without broadcasting every output element
/// depends only on the operand elements at its own offset, so each element of `io` is read
/// once and then overwritten, by this tile only; `io` is a slice of cells, never a `&[i8]`
/// beside a `&mut`, so nothing aliases. The planner gives this call only such pairs.
pub fn binary_s8_in_place(op: BinaryS8, p: &ArithmeticParams, s: &BinaryShapes, io: Out<'_, i8>, other: &[i8],
                          first: bool, tile: &Tile) {
    let o = &s.output;
    assert!(s.input1 == *o && s.input2 == *o, "in place needs equal shapes");
    let (rows, chans) = tile.clip(o.h, o.c);
    let (io, other) = (&io[..o.len()], &other[..o.len()]);
    let run = |start: usize, len: usize| {
        for (cell, &z) in io[start..start + len].iter().zip(&other[start..start + len]) {
            let (x, y) = if first { (cell.get(), z) } else { (z, cell.get()) };
            cell.set(op.apply(p, x, y));
        }
    };
    for n in 0..o.n {
        if chans.start == 0 && chans.end == o.c {
            run(o.offset(n, rows.start, 0, 0), o.w * o.c * rows.len());
        } else {
            for h in rows.clone() {
                for w in 0..o.w {
                    run(o.offset(n, h, w, chans.start), chans.len());
                }
            }
        }
    }
}

/// Which int8 arithmetic op `binary_s8_in_place` runs (the same element function as
/// `add_s8`, `sub_s8`, `mul_s8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryS8 {
    Add,
    Sub,
    Mul,
}

impl BinaryS8 {
    #[inline]
    fn apply(self, p: &ArithmeticParams, x: i8, y: i8) -> i8 {
        match self {
            BinaryS8::Add => {
                let (u, v) = rescaled(p, x, y);
                finish(p, u.wrapping_add(v))
            }
            BinaryS8::Sub => {
                let (u, v) = rescaled(p, x, y);
                finish(p, u.wrapping_sub(v))
            }
            BinaryS8::Mul => {
                let prod = (p.input1_offset + x as i32) * (p.input2_offset + y as i32);
                let v = p.output_offset + multiply_by_quantized_multiplier(prod, p.output_multiplier, p.output_shift);
                v.max(p.act_min).min(p.act_max) as i8
            }
        }
    }
}

/// MAXIMUM: the larger of the raw values (int8 or float32), as TFLM's `MaximumOp`
/// (`a > b ? a : b`: with a NaN, `b`).
pub fn maximum<T: Copy + PartialOrd>(s: &BinaryShapes, a: &[T], b: &[T], out: Out<'_, T>, tile: &Tile) {
    binary_tiled(s, a, b, out, tile, |x, y| if x > y { x } else { y });
}

/// MINIMUM: the smaller of the raw values, as TFLM's `MinimumOp` (`a < b ? a : b`).
pub fn minimum<T: Copy + PartialOrd>(s: &BinaryShapes, a: &[T], b: &[T], out: Out<'_, T>, tile: &Tile) {
    binary_tiled(s, a, b, out, tile, |x, y| if x < y { x } else { y });
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BinaryF32 {
    Add,
    Sub,
    Mul,
    /// TFLM's float DIV: `x / y` (IEEE: a zero divisor gives an infinity or NaN, as there).
    Div,
    /// `(x - y) * (x - y)`, TFLM's float SquaredDifference (no activation).
    SquaredDifference,
}

pub fn binary_f32(
    op: BinaryF32,
    act: (f32, f32),
    s: &BinaryShapes,
    a: &[f32],
    b: &[f32],
    out: Out<'_, f32>,
    tile: &Tile,
) {
    // TFLM's ActivationFunctionWithMinMax: std::min(std::max(v, lo), hi), which lets a NaN
    // through (f32::max/min would replace it by a bound).
    let clamp = |v: f32| {
        let v = if v < act.0 { act.0 } else { v };
        if act.1 < v { act.1 } else { v }
    };
    match op {
        BinaryF32::Add => binary_tiled(s, a, b, out, tile, |x, y| clamp(x + y)),
        BinaryF32::Sub => binary_tiled(s, a, b, out, tile, |x, y| clamp(x - y)),
        BinaryF32::Mul => binary_tiled(s, a, b, out, tile, |x, y| clamp(x * y)),
        BinaryF32::Div => binary_tiled(s, a, b, out, tile, |x, y| clamp(x / y)),
        BinaryF32::SquaredDifference => binary_tiled(s, a, b, out, tile, |x, y| clamp((x - y) * (x - y))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tile::cells;

    #[test]
    fn add_same_scale_broadcast_channel() {
        // Both inputs and output scale s: multipliers 0.5 (s / 2s), output 2s/(2^20 s).
        let p = ArithmeticParams {
            input1_offset: 0, input2_offset: 0, output_offset: 0, left_shift: 20,
            input1_multiplier: 1 << 30, input1_shift: 0, input2_multiplier: 1 << 30, input2_shift: 0,
            output_multiplier: 1 << 30, output_shift: -18, act_min: -128, act_max: 127,
        };
        let s = BinaryShapes {
            input1: Shape4::new(1, 2, 1, 2), input2: Shape4::new(1, 1, 1, 2), output: Shape4::new(1, 2, 1, 2),
        };
        let mut out = [0i8; 4];
        add_s8(&p, &s, &[1, 2, 100, -100], &[10, -20], cells(&mut out), &Tile::new(0..2, 0..2));
        assert_eq!(out, [11, -18, 110, -120]);
        let mut t = [0i8; 4];
        add_s8(&p, &s, &[1, 2, 100, -100], &[10, -20], cells(&mut t), &Tile::new(1..2, 0..2));
        assert_eq!(t, [0, 0, 110, -120]);
    }

    #[test]
    fn in_place_equals_out_of_place_for_every_op_operand_and_tile() {
        let p = ArithmeticParams {
            input1_offset: 7, input2_offset: -3, output_offset: 5, left_shift: 20,
            input1_multiplier: 1_300_000_000, input1_shift: -1, input2_multiplier: 1_100_000_000, input2_shift: 0,
            output_multiplier: 1_500_000_000, output_shift: -19, act_min: -128, act_max: 127,
        };
        let shape = Shape4::new(1, 3, 2, 4);
        let s = BinaryShapes { input1: shape, input2: shape, output: shape };
        let a: [i8; 24] = core::array::from_fn(|i| (i as i32 * 37 % 256 - 128) as i8);
        let b: [i8; 24] = core::array::from_fn(|i| (i as i32 * 91 % 256 - 128) as i8);
        let ops: [(BinaryS8, fn(&ArithmeticParams, &BinaryShapes, &[i8], &[i8], Out<'_, i8>, &Tile)); 3] =
            [(BinaryS8::Add, add_s8), (BinaryS8::Sub, sub_s8), (BinaryS8::Mul, mul_s8)];
        for (op, reference) in ops {
            for tile in [Tile::new(0..3, 0..4), Tile::new(1..2, 0..4), Tile::new(0..3, 1..3)] {
                for first in [true, false] {
                    let mut want = if first { a } else { b };
                    reference(&p, &s, &a, &b, cells(&mut want), &tile);
                    let mut io = if first { a } else { b };
                    let other = if first { &b } else { &a };
                    binary_s8_in_place(op, &p, &s, cells(&mut io), other, first, &tile);
                    assert_eq!(io, want, "{op:?} first={first}");
                }
            }
        }
    }
}
