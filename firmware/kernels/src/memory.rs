//! The shape-only ops as copy kernels: RESHAPE, TRANSPOSE, STRIDED_SLICE (SPLIT is a
//! stride-1 slice), PAD and CONCATENATION, for any element type.
//!
//! Every output element is a copy of one input element (or the pad value), so these are
//! bit-exact with TFLM for int8 and float32 alike. Geometry is resolved ahead of time by
//! `arielml.quant` (masks, negative indices, rank padding), so the kernels see only
//! rank-5 shapes, starts and strides. Tiles follow [`ShapeN`]'s convention.
use crate::activations::{requantize_value, RequantizeParams};
use crate::tile::{for_each_in_tile_n, Out, ShapeN, Tile, MAX_RANK};

/// RESHAPE: the flat layout is unchanged; `shape` is the output's, for the tile.
pub fn reshape<T: Copy>(shape: &ShapeN, input: &[T], output: Out<'_, T>, tile: &Tile) {
    for_each_in_tile_n(shape, tile, |_, o| output[o].set(input[o]));
}

/// TRANSPOSE: output dim `d` is input dim `perm[d]` (a permutation of 0..5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransposeParams {
    pub input: ShapeN,
    pub output: ShapeN,
    pub perm: [usize; MAX_RANK],
}

pub fn transpose<T: Copy>(p: &TransposeParams, input: &[T], output: Out<'_, T>, tile: &Tile) {
    let ist = p.input.strides();
    // Moving one step along output dim d moves this far in the input.
    let step: [usize; MAX_RANK] = core::array::from_fn(|d| ist[p.perm[d]]);
    for_each_in_tile_n(&p.output, tile, |idx, o| {
        let i: usize = idx.iter().zip(&step).map(|(i, s)| i * s).sum();
        output[o].set(input[i]);
    });
}

/// STRIDED_SLICE with begin/end/masks resolved (`arielml.quant.strided_slice_params`):
/// output index `i` along dim `d` reads input index `start[d] + i * stride[d]`. Shrunk
/// axes stay in `output` with size 1 (the flat layout is the same).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SliceParams {
    pub input: ShapeN,
    pub output: ShapeN,
    pub start: [i32; MAX_RANK],
    pub stride: [i32; MAX_RANK],
}

impl SliceParams {
    /// SPLIT / SPLIT_V: the output that begins at `offset` along `axis`.
    pub fn split(input: ShapeN, output: ShapeN, axis: usize, offset: usize) -> Self {
        let mut start = [0; MAX_RANK];
        start[axis] = offset as i32;
        SliceParams { input, output, start, stride: [1; MAX_RANK] }
    }
}

pub fn strided_slice<T: Copy>(p: &SliceParams, input: &[T], output: Out<'_, T>, tile: &Tile) {
    let ist = p.input.strides();
    let mut base = 0isize;
    let mut step = [0isize; MAX_RANK];
    for d in 0..MAX_RANK {
        base += p.start[d] as isize * ist[d] as isize;
        step[d] = p.stride[d] as isize * ist[d] as isize;
    }
    for_each_in_tile_n(&p.output, tile, |idx, o| {
        let i = idx.iter().zip(&step).fold(base, |acc, (&i, &s)| acc + i as isize * s);
        output[o].set(input[i as usize]);
    });
}

/// SPLIT: one output per call, so the outputs of one op can go to different cores.
pub fn split<T: Copy>(p: &SliceParams, input: &[T], output: Out<'_, T>, tile: &Tile) {
    strided_slice(p, input, output, tile)
}

/// PAD: `before[d]` elements of padding precede the input along dim `d`; everything
/// outside the input gets `pad_value` (TFLM: the output zero point for int8, 0.0 for float).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PadParams {
    pub input: ShapeN,
    pub output: ShapeN,
    pub before: [usize; MAX_RANK],
}

pub fn pad<T: Copy>(p: &PadParams, pad_value: T, input: &[T], output: Out<'_, T>, tile: &Tile) {
    let ist = p.input.strides();
    for_each_in_tile_n(&p.output, tile, |idx, o| {
        let mut i = 0;
        for d in 0..MAX_RANK {
            match idx[d].checked_sub(p.before[d]).filter(|&x| x < p.input.0[d]) {
                Some(x) => i += x * ist[d],
                None => return output[o].set(pad_value),
            }
        }
        output[o].set(input[i]);
    });
}

/// One input of a CONCATENATION: it lands at `offset` along `axis` of `output`. The op
/// is one call per input (disjoint output regions, so inputs can go to different cores);
/// each call writes only its own region, intersected with the tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConcatParams {
    pub input: ShapeN,
    pub output: ShapeN,
    pub axis: usize,
    pub offset: usize,
}

#[inline]
fn concat_map<T: Copy, U>(p: &ConcatParams, input: &[T], output: Out<'_, U>, tile: &Tile, f: impl Fn(T) -> U) {
    // The tile is in output coordinates; shift it into the input's along the axis.
    let mut t = tile.clone();
    let shift = |r: &core::ops::Range<usize>| r.start.saturating_sub(p.offset)..r.end.saturating_sub(p.offset);
    if p.axis == ShapeN::ROW_DIM {
        t.rows = shift(&tile.rows);
    } else if p.axis == ShapeN::CHANNEL_DIM {
        t.channels = shift(&tile.channels);
    }
    let ost = p.output.strides();
    let base = p.offset * ost[p.axis];
    for_each_in_tile_n(&p.input, &t, |idx, i| {
        let o: usize = idx.iter().zip(&ost).map(|(i, s)| i * s).sum();
        output[base + o].set(f(input[i]));
    });
}

/// A plain copy: TFLM's int8 CONCATENATION requires every input to share the output's
/// scale and zero point (Prepare fails otherwise), and then copies bytes.
pub fn concatenation<T: Copy>(p: &ConcatParams, input: &[T], output: Out<'_, T>, tile: &Tile) {
    concat_map(p, input, output, tile, |x| x)
}

/// An int8 input whose scale or zero point differs from the output's: requantized on the
/// way, bit for bit as TFLM's int8 -> int8 QUANTIZE would do it, so a model that TFLM
/// runs as QUANTIZE + CONCATENATION gives the same bytes here in one pass.
pub fn concatenation_requant_s8(
    p: &ConcatParams,
    q: &RequantizeParams,
    input: &[i8],
    output: Out<'_, i8>,
    tile: &Tile,
) {
    concat_map(p, input, output, tile, |x| requantize_value(q, x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tile::cells;

    fn s(d: [usize; 5]) -> ShapeN {
        ShapeN(d)
    }

    #[test]
    fn transpose_2d_and_slice_backwards() {
        let x = [1i8, 2, 3, 4, 5, 6]; // 2x3
        let p = TransposeParams { input: s([1, 1, 1, 2, 3]), output: s([1, 1, 1, 3, 2]), perm: [0, 1, 2, 4, 3] };
        let mut y = [0i8; 6];
        transpose(&p, &x, cells(&mut y), &Tile::new(0..9, 0..9));
        assert_eq!(y, [1, 4, 2, 5, 3, 6]);
        // x[:, ::-2] -> [[3, 1], [6, 4]]
        let q = SliceParams { input: s([1, 1, 1, 2, 3]), output: s([1, 1, 1, 2, 2]), start: [0, 0, 0, 0, 2], stride: [1, 1, 1, 1, -2] };
        let mut z = [0i8; 4];
        strided_slice(&q, &x, cells(&mut z), &Tile::new(0..9, 0..9));
        assert_eq!(z, [3, 1, 6, 4]);
    }

    #[test]
    fn pad_and_concat_channel_tiles() {
        let p = PadParams { input: s([1, 1, 1, 1, 2]), output: s([1, 1, 1, 1, 5]), before: [0, 0, 0, 0, 1] };
        let mut y = [0i8; 5];
        pad(&p, -7, &[4, 5], cells(&mut y), &Tile::new(0..1, 0..5));
        assert_eq!(y, [-7, 4, 5, -7, -7]);
        let out = s([1, 1, 1, 1, 5]);
        let a = ConcatParams { input: s([1, 1, 1, 1, 2]), output: out, axis: 4, offset: 0 };
        let b = ConcatParams { input: s([1, 1, 1, 1, 3]), output: out, axis: 4, offset: 2 };
        let mut z = [0i8; 5];
        let zc = cells(&mut z);
        for t in [Tile::new(0..1, 0..3), Tile::new(0..1, 3..5)] {
            concatenation(&a, &[1, 2], zc, &t);
            concatenation(&b, &[3, 4, 5], zc, &t);
        }
        assert_eq!(z, [1, 2, 3, 4, 5]);
    }
}
