//! FULLY_CONNECTED: int8 with per-tensor or per-channel requantization, and float32.
//!
//! Input is (batches, depth) row-major, filter (units, depth), output (batches, units).
//! A tile's `rows` are batches and its `channels` are units.
use crate::conv::PerChannel;
use crate::requant::requantize_acc;
use crate::simd::dot;
use crate::tile::{Out, Tile};

params! {
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct FullyConnectedParams {
        pub batches: usize,
        pub depth: usize,
        pub units: usize,
        pub input_offset: i32,
        /// `-filter_zero_point`; TFLM requires 0 for int8 filters but the kernel keeps it.
        pub filter_offset: i32,
        pub output_offset: i32,
        pub act_min: i32,
        pub act_max: i32,
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FullyConnectedF32Params {
    pub batches: usize,
    pub depth: usize,
    pub units: usize,
    pub act_min: f32,
    pub act_max: f32,
}

/// `q` holds one entry per unit; per-tensor models repeat the same pair.
pub fn fully_connected_s8(
    p: &FullyConnectedParams,
    q: PerChannel<'_>,
    input: &[i8],
    filter: &[i8],
    bias: Option<&[i32]>,
    output: Out<'_, i8>,
    tile: &Tile,
) {
    let (rows, units) = tile.clip(p.batches, p.units);
    if p.filter_offset != 0 {
        return fully_connected_reference(p, q, input, filter, bias, output, rows, units);
    }
    // filter_offset == 0: acc = sum((x + input_offset) * w), four units per input pass.
    let d = p.depth;
    for b in rows {
        let x = &input[b * d..(b + 1) * d];
        let mut u = units.start;
        while u + 4 <= units.end {
            let f: [&[i8]; 4] = core::array::from_fn(|j| &filter[(u + j) * d..(u + j + 1) * d]);
            let mut acc: [i32; 4] = core::array::from_fn(|j| bias.map_or(0, |bb| bb[u + j]));
            dot::<4, true>(x, f, p.input_offset, &mut acc);
            for j in 0..4 {
                let v = requantize_acc(acc[j], q.multiplier[u + j], q.shift[u + j], p.output_offset, p.act_min, p.act_max);
                output[b * p.units + u + j].set(v);
            }
            u += 4;
        }
        while u < units.end {
            let mut acc = [bias.map_or(0, |bb| bb[u])];
            dot::<1, true>(x, [&filter[u * d..(u + 1) * d]], p.input_offset, &mut acc);
            output[b * p.units + u].set(requantize_acc(acc[0], q.multiplier[u], q.shift[u], p.output_offset, p.act_min, p.act_max));
            u += 1;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn fully_connected_reference(
    p: &FullyConnectedParams,
    q: PerChannel<'_>,
    input: &[i8],
    filter: &[i8],
    bias: Option<&[i32]>,
    output: Out<'_, i8>,
    rows: core::ops::Range<usize>,
    units: core::ops::Range<usize>,
) {
    for b in rows {
        let x = &input[b * p.depth..(b + 1) * p.depth];
        for u in units.clone() {
            let f = &filter[u * p.depth..(u + 1) * p.depth];
            let mut acc: i32 = 0;
            for (xv, fv) in x.iter().zip(f) {
                acc = acc.wrapping_add((*fv as i32 + p.filter_offset) * (*xv as i32 + p.input_offset));
            }
            if let Some(bias) = bias {
                acc = acc.wrapping_add(bias[u]);
            }
            output[b * p.units + u].set(requantize_acc(acc, q.multiplier[u], q.shift[u], p.output_offset, p.act_min, p.act_max));
        }
    }
}

pub fn fully_connected_f32(
    p: &FullyConnectedF32Params,
    input: &[f32],
    filter: &[f32],
    bias: Option<&[f32]>,
    output: Out<'_, f32>,
    tile: &Tile,
) {
    let (rows, units) = tile.clip(p.batches, p.units);
    for b in rows {
        let x = &input[b * p.depth..(b + 1) * p.depth];
        for u in units.clone() {
            let f = &filter[u * p.depth..(u + 1) * p.depth];
            let mut total = 0.0f32;
            for (xv, fv) in x.iter().zip(f) {
                total += xv * fv;
            }
            let v = total + bias.map_or(0.0, |bb| bb[u]);
            output[b * p.units + u].set(v.max(p.act_min).min(p.act_max));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tile::cells;

    #[test]
    fn two_units_hand_checked_and_tiled() {
        let p = FullyConnectedParams {
            batches: 2, depth: 3, units: 2, input_offset: 1, filter_offset: 0,
            output_offset: -3, act_min: -10, act_max: 127,
        };
        let input = [1i8, 2, 3, -1, -1, -1];
        let filter = [1i8, 1, 1, 2, 0, -2];
        let q = PerChannel { multiplier: &[1 << 30, 1 << 30], shift: &[0, 2] };
        let mut out = [0i8; 4];
        conv_all(&p, q, &input, &filter, cells(&mut out));
        // b0: u0 (2+3+4)=9 -> 4.5 -> 5 - 3 = 2 ; u1 (4-8)=-4 -> *2 = -8 - 3 = -11 -> clamp -10
        // b1: u0 0 -> -3 ; u1 0 -> -3
        assert_eq!(out, [2, -10, -3, -3]);
        let mut t = [0i8; 4];
        fully_connected_s8(&p, q, &input, &filter, None, cells(&mut t), &Tile::new(1..2, 0..2));
        fully_connected_s8(&p, q, &input, &filter, None, cells(&mut t), &Tile::new(0..1, 1..2));
        fully_connected_s8(&p, q, &input, &filter, None, cells(&mut t), &Tile::new(0..1, 0..1));
        assert_eq!(t, out);
    }

    fn conv_all(p: &FullyConnectedParams, q: PerChannel<'_>, i: &[i8], f: &[i8], o: Out<'_, i8>) {
        fully_connected_s8(p, q, i, f, None, o, &Tile::new(0..p.batches, 0..p.units));
    }
}
