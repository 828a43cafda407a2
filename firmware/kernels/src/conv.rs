//! CONV_2D: int8 per-channel (TFLM `ConvPerChannel`) and float32, with grouped filters.
use crate::requant::{requantize_acc, Requant};
use crate::simd::{dot, dot_portable, HAS_DSP};
use crate::tile::{Out, Tile, Window2d};

params! {
    /// int8 CONV_2D parameters. Offsets are TFLM's: `input_offset = -input_zero_point`,
    /// `output_offset = output_zero_point`; `act_min..=act_max` is the fused activation clamp.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Conv2dParams {
        given {
            pub window: Window2d,
        }
        pub input_offset: i32,
        pub output_offset: i32,
        pub act_min: i32,
        pub act_max: i32,
    }
}

/// Per-output-channel requantization (a per-tensor scale is just a repeated entry).
#[derive(Clone, Copy, Debug)]
pub struct PerChannel<'a> {
    pub multiplier: &'a [i32],
    pub shift: &'a [i32],
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv2dF32Params {
    pub window: Window2d,
    pub act_min: f32,
    pub act_max: f32,
}

/// Input channel of filter channel `ic` for output channel `oc` when filters are grouped
/// (filter depth smaller than input depth).
#[inline]
fn group_base(w: &Window2d, oc: usize) -> usize {
    let groups = w.input.c / w.filter.c.max(1);
    let per_group = (w.output.c / groups.max(1)).max(1);
    (oc / per_group) * w.filter.c
}

/// Computes the `tile` part of `output` (NHWC); filter is OHWI, bias one i32 per channel.
///
/// Fast path (ungrouped filters, dilation >= 1): four output channels at a time over all
/// the tile's pixels, so each input load serves four filters. A pixel whose window lies
/// wholly inside the input accumulates the pure dot product `sum(x * w)` and adds
/// `input_offset * sum(w)` (computed once per channel); a pixel whose window crosses the
/// padding sums `(x + input_offset) * w` over its valid taps. Both are exact integer sums
/// (mod 2^32), so the result is TFLM's bit for bit.
pub fn conv2d_s8(
    p: &Conv2dParams,
    q: PerChannel<'_>,
    input: &[i8],
    filter: &[i8],
    bias: Option<&[i32]>,
    output: Out<'_, i8>,
    tile: &Tile,
) {
    let w = &p.window;
    let (rows, chans) = tile.clip(w.output.h, w.output.c);
    if rows.is_empty() || chans.is_empty() || w.output.n == 0 || w.output.w == 0 {
        return;
    }
    if w.filter.c != w.input.c || w.filter.c == 0 || w.dilation_h == 0 || w.dilation_w == 0 {
        return conv2d_s8_reference(p, q, input, filter, bias, output, tile);
    }
    // The interior sum trick costs one pass over the filter per channel: worth it only when
    // the tile has several pixels to share it.
    let pixels = w.output.n * rows.len() * w.output.w;
    let sums = pixels >= 4;
    // The DSP loops (simd.rs) pay off on runs of 8 or more contiguous bytes; shorter runs
    // (a first layer over one input channel) keep the portable loop, in blocks compiled
    // without the DSP branch.
    let run = if w.dilation_w == 1 { w.filter.w * w.filter.c } else { w.filter.c };
    let dsp = HAS_DSP && run >= 8;
    let mut oc = chans.start;
    while oc + 4 <= chans.end {
        if dsp {
            conv_block::<4, true>(p, q, input, filter, bias, output, rows.clone(), oc, sums);
        } else {
            conv_block::<4, false>(p, q, input, filter, bias, output, rows.clone(), oc, sums);
        }
        oc += 4;
    }
    while oc < chans.end {
        if dsp {
            conv_block::<1, true>(p, q, input, filter, bias, output, rows.clone(), oc, sums);
        } else {
            conv_block::<1, false>(p, q, input, filter, bias, output, rows.clone(), oc, sums);
        }
        oc += 1;
    }
}

/// `dot` (the DSP loops where the target has them) in a `DSP` block, else the portable loop.
#[inline(always)]
fn dot_in<const N: usize, const OFF: bool, const DSP: bool>(x: &[i8], w: [&[i8]; N], off: i32, acc: &mut [i32; N]) {
    if DSP {
        dot::<N, OFF>(x, w, off, acc)
    } else {
        dot_portable::<N, OFF>(x, w, off, acc)
    }
}

/// Valid filter taps `lo..hi` of output coordinate `o` along one axis (taps whose input
/// coordinate `o*stride + k*dilation - pad` lies in `0..size`), and the input coordinate of
/// tap `lo`. `dilation >= 1`.
#[inline(always)]
pub(crate) fn tap_range(o: usize, stride: usize, dilation: usize, pad: usize, size: usize, taps: usize) -> (usize, usize, usize) {
    let start = o * stride;
    let lo = if start >= pad { 0 } else { (pad - start).div_ceil(dilation) };
    let lim = size + pad;
    let hi = if lim > start { (lim - start).div_ceil(dilation).min(taps) } else { 0 };
    let lo = lo.min(hi);
    (lo, hi, (start + lo * dilation).wrapping_sub(pad))
}

/// `N` consecutive output channels from `oc`, every pixel of `rows`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn conv_block<const N: usize, const DSP: bool>(
    p: &Conv2dParams,
    q: PerChannel<'_>,
    input: &[i8],
    filter: &[i8],
    bias: Option<&[i32]>,
    output: Out<'_, i8>,
    rows: core::ops::Range<usize>,
    oc: usize,
    sums: bool,
) {
    let w = &p.window;
    let (kh, kw, depth) = (w.filter.h, w.filter.w, w.filter.c);
    let k_len = kh * kw * depth;
    let off = p.input_offset;
    let f: [&[i8]; N] = core::array::from_fn(|j| &filter[(oc + j) * k_len..(oc + j + 1) * k_len]);
    let b0: [i32; N] = core::array::from_fn(|j| bias.map_or(0, |b| b[oc + j]));
    // Accumulator start for a window without padding: bias + input_offset * sum(w).
    let full: [i32; N] = core::array::from_fn(|j| {
        let s = f[j].iter().fold(0i32, |a, &v| a.wrapping_add(v as i32));
        b0[j].wrapping_add(off.wrapping_mul(s))
    });
    let rq: [Requant; N] = core::array::from_fn(|j| {
        Requant::new(q.multiplier[oc + j], q.shift[oc + j], p.output_offset, p.act_min, p.act_max)
    });
    let tap_stride = w.dilation_w * depth;
    for b in 0..w.output.n {
        for oy in rows.clone() {
            let (ky0, ky1, iy0) = tap_range(oy, w.stride_h, w.dilation_h, w.pad_top, w.input.h, kh);
            for ox in 0..w.output.w {
                let (kx0, kx1, ix0) = tap_range(ox, w.stride_w, w.dilation_w, w.pad_left, w.input.w, kw);
                let inside = sums && ky0 == 0 && ky1 == kh && kx0 == 0 && kx1 == kw;
                let mut acc = if inside { full } else { b0 };
                if kx0 < kx1 {
                    let run = (kx1 - kx0) * depth;
                    for (r, ky) in (ky0..ky1).enumerate() {
                        let i0 = w.input.offset(b, iy0 + r * w.dilation_h, ix0, 0);
                        let f0 = (ky * kw + kx0) * depth;
                        if w.dilation_w == 1 {
                            // Taps kx0..kx1 of this row are one contiguous run in input and filter.
                            let x = &input[i0..i0 + run];
                            let fs: [&[i8]; N] = core::array::from_fn(|j| &f[j][f0..f0 + run]);
                            if inside {
                                dot_in::<N, false, DSP>(x, fs, off, &mut acc);
                            } else {
                                dot_in::<N, true, DSP>(x, fs, off, &mut acc);
                            }
                        } else {
                            for t in 0..kx1 - kx0 {
                                let xi = i0 + t * tap_stride;
                                let fi = f0 + t * depth;
                                let x = &input[xi..xi + depth];
                                let fs: [&[i8]; N] = core::array::from_fn(|j| &f[j][fi..fi + depth]);
                                if inside {
                                    dot_in::<N, false, DSP>(x, fs, off, &mut acc);
                                } else {
                                    dot_in::<N, true, DSP>(x, fs, off, &mut acc);
                                }
                            }
                        }
                    }
                }
                let o = w.output.offset(b, oy, ox, oc);
                let out = &output[o..o + N];
                for j in 0..N {
                    out[j].set(rq[j].apply(acc[j]));
                }
            }
        }
    }
}

/// The straightforward TFLM-order loop: grouped filters and degenerate geometries.
fn conv2d_s8_reference(
    p: &Conv2dParams,
    q: PerChannel<'_>,
    input: &[i8],
    filter: &[i8],
    bias: Option<&[i32]>,
    output: Out<'_, i8>,
    tile: &Tile,
) {
    let w = &p.window;
    let (rows, chans) = tile.clip(w.output.h, w.output.c);
    for b in 0..w.output.n {
        for oy in rows.clone() {
            for ox in 0..w.output.w {
                for oc in chans.clone() {
                    let mut acc = conv_acc_s8(w, p.input_offset, input, filter, b, oy, ox, oc);
                    if let Some(bias) = bias {
                        acc = acc.wrapping_add(bias[oc]);
                    }
                    output[w.output.offset(b, oy, ox, oc)].set(requantize_acc(
                        acc, q.multiplier[oc], q.shift[oc], p.output_offset, p.act_min, p.act_max,
                    ));
                }
            }
        }
    }
}

/// Accumulates in TFLM's order (ky, kx, ic); int32 wraps only for invalid models.
#[inline]
#[allow(clippy::too_many_arguments)]
fn conv_acc_s8(w: &Window2d, in_off: i32, input: &[i8], filter: &[i8], b: usize, oy: usize, ox: usize, oc: usize) -> i32 {
    let depth = w.filter.c;
    let base = group_base(w, oc);
    let mut acc: i32 = 0;
    for ky in 0..w.filter.h {
        let Some(iy) = w.in_y(oy, ky) else { continue };
        for kx in 0..w.filter.w {
            let Some(ix) = w.in_x(ox, kx) else { continue };
            let i0 = w.input.offset(b, iy, ix, base);
            let f0 = w.filter.offset(oc, ky, kx, 0);
            for (x, f) in input[i0..i0 + depth].iter().zip(&filter[f0..f0 + depth]) {
                acc = acc.wrapping_add((*f as i32) * (*x as i32 + in_off));
            }
        }
    }
    acc
}

/// float32 CONV_2D, summing in TFLM's order so results match it bit for bit on hosts
/// without fused multiply-add.
pub fn conv2d_f32(
    p: &Conv2dF32Params,
    input: &[f32],
    filter: &[f32],
    bias: Option<&[f32]>,
    output: Out<'_, f32>,
    tile: &Tile,
) {
    let w = &p.window;
    let (rows, chans) = tile.clip(w.output.h, w.output.c);
    let depth = w.filter.c;
    for b in 0..w.output.n {
        for oy in rows.clone() {
            for ox in 0..w.output.w {
                for oc in chans.clone() {
                    let base = group_base(w, oc);
                    let mut total = 0.0f32;
                    for ky in 0..w.filter.h {
                        let Some(iy) = w.in_y(oy, ky) else { continue };
                        for kx in 0..w.filter.w {
                            let Some(ix) = w.in_x(ox, kx) else { continue };
                            let i0 = w.input.offset(b, iy, ix, base);
                            let f0 = w.filter.offset(oc, ky, kx, 0);
                            for ic in 0..depth {
                                total += input[i0 + ic] * filter[f0 + ic];
                            }
                        }
                    }
                    let v = total + bias.map_or(0.0, |bb| bb[oc]);
                    output[w.output.offset(b, oy, ox, oc)].set(v.max(p.act_min).min(p.act_max));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tile::{cells, Out};
    use crate::tile::Shape4;

    fn window(stride: usize, pad: usize) -> Window2d {
        Window2d {
            input: Shape4::new(1, 3, 3, 1),
            filter: Shape4::new(2, 2, 2, 1),
            output: Shape4::new(1, 2, 2, 2),
            stride_h: stride, stride_w: stride, dilation_h: 1, dilation_w: 1,
            pad_top: pad, pad_left: pad,
        }
    }

    #[test]
    fn hand_checked_3x3_by_2x2() {
        // input 1..9, filter0 all ones, filter1 = [1,0,0,-1]; multiplier 0.5, zero offsets.
        let input: [i8; 9] = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        let filter: [i8; 8] = [1, 1, 1, 1, 1, 0, 0, -1];
        let p = Conv2dParams { window: window(1, 0), input_offset: 0, output_offset: 0, act_min: -128, act_max: 127 };
        let q = PerChannel { multiplier: &[1 << 30, 1 << 30], shift: &[0, 1] };
        let mut out = [0i8; 8];
        conv2d_s8(&p, q, &input, &filter, Some(&[1, 0]), cells(&mut out), &Tile::full(p.window.output));
        // ch0: (sum window + 1) / 2 rounded; ch1: (a - d) * 0.5 * 2 = -4 everywhere
        assert_eq!(out, [7, -4, 9, -4, 13, -4, 15, -4]);
    }

    #[test]
    fn tiles_match_full() {
        let input: [i8; 9] = [1, -2, 3, -4, 5, -6, 7, -8, 9];
        let filter: [i8; 8] = [3, 1, -1, 2, 1, 0, 0, -1];
        let p = Conv2dParams { window: window(1, 1), input_offset: 3, output_offset: -5, act_min: -20, act_max: 100 };
        let mut p2 = p;
        p2.window.output = Shape4::new(1, 4, 4, 2);
        let q = PerChannel { multiplier: &[1 << 30, 3 << 29], shift: &[1, -1] };
        let mut full = [0i8; 32];
        conv2d_s8(&p2, q, &input, &filter, None, cells(&mut full), &Tile::full(p2.window.output));
        for split in 1..4 {
            let mut t = [0i8; 32];
            // One shared view serves all three tiles, as it does across cores.
            let out = cells(&mut t);
            conv2d_s8(&p2, q, &input, &filter, None, out, &Tile::new(0..split, 0..1));
            conv2d_s8(&p2, q, &input, &filter, None, out, &Tile::new(0..split, 1..2));
            conv2d_s8(&p2, q, &input, &filter, None, out, &Tile::new(split..4, 0..2));
            assert_eq!(t, full);
        }
    }

    /// The multi-core pattern: each "core" builds its own `Out` over the shared buffer
    /// from a raw pointer, and they write disjoint tiles at the same time.
    #[test]
    fn disjoint_tiles_on_two_threads() {
        extern crate std;
        let input: [i8; 9] = [1, -2, 3, -4, 5, -6, 7, -8, 9];
        let filter: [i8; 8] = [3, 1, -1, 2, 1, 0, 0, -1];
        let mut p = Conv2dParams { window: window(1, 1), input_offset: 3, output_offset: -5, act_min: -20, act_max: 100 };
        p.window.output = Shape4::new(1, 4, 4, 2);
        let q = PerChannel { multiplier: &[1 << 30, 3 << 29], shift: &[1, -1] };
        let mut full = [0i8; 32];
        conv2d_s8(&p, q, &input, &filter, None, cells(&mut full), &Tile::full(p.window.output));
        let mut shared = [0i8; 32];
        let (addr, len) = (shared.as_mut_ptr() as usize, shared.len());
        std::thread::scope(|s| {
            for rows in [0..2, 2..4] {
                s.spawn(move || {
                    // SAFETY: `shared` outlives the scope and is not touched by anyone else
                    // meanwhile; the two tiles are disjoint, so no element is raced on.
                    let out: Out<'_, i8> =
                        unsafe { core::slice::from_raw_parts(addr as *const core::cell::Cell<i8>, len) };
                    conv2d_s8(&p, q, &input, &filter, None, out, &Tile::new(rows, 0..2));
                });
            }
        });
        assert_eq!(shared, full);
    }
}
