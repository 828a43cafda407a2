//! DEPTHWISE_CONV_2D: int8 per-channel (TFLM `DepthwiseConvPerChannel`) and float32.
//!
//! Output channel `oc` reads input channel `oc / depth_multiplier`, so a channel tile
//! needs no other channels' results.
use crate::conv::PerChannel;
use crate::requant::requantize_acc;
use crate::tile::{Out, Tile, Window2d};

/// `window.filter` is (1, kh, kw, out_channels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DepthwiseParams {
    pub window: Window2d,
    pub depth_multiplier: usize,
    pub input_offset: i32,
    pub output_offset: i32,
    pub act_min: i32,
    pub act_max: i32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthwiseF32Params {
    pub window: Window2d,
    pub depth_multiplier: usize,
    pub act_min: f32,
    pub act_max: f32,
}

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
