//! DEPTHWISE_CONV_2D: int8 per-channel (TFLM `DepthwiseConvPerChannel`) and float32.
//!
//! Output channel `oc` reads input channel `oc / depth_multiplier`, so a channel tile
//! needs no other channels' results.
use crate::conv::PerChannel;
use crate::conv::tap_range;
use crate::requant::{requantize_acc, Requant};
use crate::tile::{Out, Tile, Window2d};

params! {
    /// `window.filter` is (1, kh, kw, out_channels).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct DepthwiseParams {
        given {
            pub window: Window2d,
        }
        pub depth_multiplier: usize,
        pub input_offset: i32,
        pub output_offset: i32,
        pub act_min: i32,
        pub act_max: i32,
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthwiseF32Params {
    pub window: Window2d,
    pub depth_multiplier: usize,
    pub act_min: f32,
    pub act_max: f32,
}

/// Fast path (depth multiplier 1, dilation >= 1): four channels at a time over all the
/// tile's pixels; windows inside the input sum `x * w` and add `input_offset * sum(w)`
/// once, windows crossing the padding sum `(x + input_offset) * w` over their valid taps.
/// Exact integer sums (mod 2^32), so the result is TFLM's bit for bit.
pub fn depthwise_conv2d_s8(
    p: &DepthwiseParams,
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
    if p.depth_multiplier > 1 || w.input.c != w.output.c || w.filter.c != w.output.c
        || w.dilation_h == 0 || w.dilation_w == 0
    {
        return depthwise_reference(p, q, input, filter, bias, output, tile);
    }
    let mut c = chans.start;
    while c + 4 <= chans.end {
        dw_block::<4>(p, q, input, filter, bias, output, rows.clone(), c);
        c += 4;
    }
    while c < chans.end {
        dw_block::<1>(p, q, input, filter, bias, output, rows.clone(), c);
        c += 1;
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn dw_block<const N: usize>(
    p: &DepthwiseParams,
    q: PerChannel<'_>,
    input: &[i8],
    filter: &[i8],
    bias: Option<&[i32]>,
    output: Out<'_, i8>,
    rows: core::ops::Range<usize>,
    c: usize,
) {
    let w = &p.window;
    let (kh, kw, ch) = (w.filter.h, w.filter.w, w.filter.c);
    let off = p.input_offset;
    let taps = kh * kw;
    let filter = &filter[..taps * ch];
    let b0: [i32; N] = core::array::from_fn(|j| bias.map_or(0, |b| b[c + j]));
    let full: [i32; N] = core::array::from_fn(|j| {
        let mut s = 0i32;
        for t in 0..taps {
            s = s.wrapping_add(filter[t * ch + c + j] as i32);
        }
        b0[j].wrapping_add(off.wrapping_mul(s))
    });
    let rq: [Requant; N] = core::array::from_fn(|j| {
        Requant::new(q.multiplier[c + j], q.shift[c + j], p.output_offset, p.act_min, p.act_max)
    });
    let x_step = w.dilation_w * ch;
    let y_step = w.dilation_h * w.input.w * ch;
    for b in 0..w.output.n {
        for oy in rows.clone() {
            let (ky0, ky1, iy0) = tap_range(oy, w.stride_h, w.dilation_h, w.pad_top, w.input.h, kh);
            for ox in 0..w.output.w {
                let (kx0, kx1, ix0) = tap_range(ox, w.stride_w, w.dilation_w, w.pad_left, w.input.w, kw);
                let inside = ky0 == 0 && ky1 == kh && kx0 == 0 && kx1 == kw;
                let mut acc = if inside { full } else { b0 };
                if kx0 < kx1 && ky0 < ky1 {
                    let nx = kx1 - kx0;
                    let mut xrow = w.input.offset(b, iy0, ix0, c);
                    let mut frow = (ky0 * kw + kx0) * ch + c;
                    for _ in ky0..ky1 {
                        let (mut xi, mut fi) = (xrow, frow);
                        for _ in 0..nx {
                            let x = &input[xi..xi + N];
                            let f = &filter[fi..fi + N];
                            if inside {
                                mac::<N, false>(x, f, off, &mut acc);
                            } else {
                                mac::<N, true>(x, f, off, &mut acc);
                            }
                            xi += x_step;
                            fi += ch;
                        }
                        xrow += y_step;
                        frow += kw * ch;
                    }
                }
                let o = w.output.offset(b, oy, ox, c);
                let out = &output[o..o + N];
                for j in 0..N {
                    out[j].set(rq[j].apply(acc[j]));
                }
            }
        }
    }
}

/// `acc[j] += x[j] * f[j]` (`OFF`: `(x[j] + off) * f[j]`) for N consecutive channels.
#[inline(always)]
fn mac<const N: usize, const OFF: bool>(x: &[i8], f: &[i8], off: i32, acc: &mut [i32; N]) {
    if N == 4 && crate::simd::HAS_DSP {
        let mut a = [acc[0], acc[1 % N], acc[2 % N], acc[3 % N]];
        crate::simd::mac4::<OFF>(x, f, off, &mut a);
        acc.copy_from_slice(&a[..N]);
    } else {
        let (x, f) = (&x[..N], &f[..N]);
        for j in 0..N {
            let xv = if OFF { x[j] as i32 + off } else { x[j] as i32 };
            acc[j] = acc[j].wrapping_add(xv.wrapping_mul(f[j] as i32));
        }
    }
}

/// The straightforward TFLM-order loop (depth multiplier > 1, degenerate geometries).
fn depthwise_reference(
    p: &DepthwiseParams,
    q: PerChannel<'_>,
    input: &[i8],
    filter: &[i8],
    bias: Option<&[i32]>,
    output: Out<'_, i8>,
    tile: &Tile,
) {
    let w = &p.window;
    let (rows, chans) = tile.clip(w.output.h, w.output.c);
    let dm = p.depth_multiplier.max(1);
    for b in 0..w.output.n {
        for oy in rows.clone() {
            for ox in 0..w.output.w {
                for oc in chans.clone() {
                    let ic = oc / dm;
                    let mut acc: i32 = 0;
                    for ky in 0..w.filter.h {
                        let Some(iy) = w.in_y(oy, ky) else { continue };
                        for kx in 0..w.filter.w {
                            let Some(ix) = w.in_x(ox, kx) else { continue };
                            let x = input[w.input.offset(b, iy, ix, ic)] as i32;
                            let f = filter[w.filter.offset(0, ky, kx, oc)] as i32;
                            acc = acc.wrapping_add(f * (x + p.input_offset));
                        }
                    }
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

pub fn depthwise_conv2d_f32(
    p: &DepthwiseF32Params,
    input: &[f32],
    filter: &[f32],
    bias: Option<&[f32]>,
    output: Out<'_, f32>,
    tile: &Tile,
) {
    let w = &p.window;
    let (rows, chans) = tile.clip(w.output.h, w.output.c);
    let dm = p.depth_multiplier.max(1);
    for b in 0..w.output.n {
        for oy in rows.clone() {
            for ox in 0..w.output.w {
                for oc in chans.clone() {
                    let mut total = 0.0f32;
                    for ky in 0..w.filter.h {
                        let Some(iy) = w.in_y(oy, ky) else { continue };
                        for kx in 0..w.filter.w {
                            let Some(ix) = w.in_x(ox, kx) else { continue };
                            total += input[w.input.offset(b, iy, ix, oc / dm)]
                                * filter[w.filter.offset(0, ky, kx, oc)];
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
    use crate::tile::cells;
    use crate::tile::Shape4;

    #[test]
    fn depth_multiplier_two_hand_checked() {
        // 1x2x2x1 input, 2x2 filter, multiplier 2: out ch0 = sum(x*f0), ch1 = sum(x*f1).
        let w = Window2d {
            input: Shape4::new(1, 2, 2, 1), filter: Shape4::new(1, 2, 2, 2),
            output: Shape4::new(1, 1, 1, 2), stride_h: 1, stride_w: 1,
            dilation_h: 1, dilation_w: 1, pad_top: 0, pad_left: 0,
        };
        let p = DepthwiseParams { window: w, depth_multiplier: 2, input_offset: 1, output_offset: 2, act_min: -128, act_max: 127 };
        let input = [1i8, 2, 3, 4];
        let filter = [1i8, -1, 1, -1, 1, -1, 1, -1];
        let q = PerChannel { multiplier: &[1 << 30; 2], shift: &[1; 2] };
        let mut out = [0i8; 2];
        depthwise_conv2d_s8(&p, q, &input, &filter, Some(&[3, 0]), cells(&mut out), &Tile::full(w.output));
        // (2+3+4+5)=14, +3 = 17 -> *1 +2 = 19 ; -14 + 2 = -12
        assert_eq!(out, [19, -12]);
        let mut half = [0i8; 2];
        depthwise_conv2d_s8(&p, q, &input, &filter, Some(&[3, 0]), cells(&mut half), &Tile::new(0..1, 1..2));
        assert_eq!(half, [0, -12]);
    }
}
