//! AVERAGE_POOL_2D and MAX_POOL_2D, int8 and float32 (TFLM reference semantics).
//!
//! Windows are clipped at the borders: padding never contributes to a max or an average
//! (the average divides by the number of in-bounds taps).
use crate::tile::{Out, Tile, Window2d};

params! {
    /// `window.filter.h/w` is the pool size; dilation must be 1.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct PoolParams {
        given {
            pub window: Window2d,
        }
        pub act_min: i32,
        pub act_max: i32,
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoolF32Params {
    pub window: Window2d,
    pub act_min: f32,
    pub act_max: f32,
}

/// Visits the in-bounds input offsets of one output pixel's window.
#[inline]
fn for_each_tap(w: &Window2d, b: usize, oy: usize, ox: usize, c: usize, mut f: impl FnMut(usize)) {
    for ky in 0..w.filter.h {
        let Some(iy) = w.in_y(oy, ky) else { continue };
        for kx in 0..w.filter.w {
            let Some(ix) = w.in_x(ox, kx) else { continue };
            f(w.input.offset(b, iy, ix, c));
        }
    }
}

/// Rounds `acc / count` to nearest with ties away from zero, as TFLM's int8 average does.
#[inline]
fn rounded_average(acc: i32, count: i32) -> i32 {
    if acc > 0 {
        (acc + count / 2) / count
    } else {
        (acc - count / 2) / count
    }
}

/// Calls `f(flat output offset, batch, oy, ox, channel)` for every element of the tile.
#[inline]
fn for_each_output(w: &Window2d, tile: &Tile, mut f: impl FnMut(usize, usize, usize, usize, usize)) {
    let (rows, chans) = tile.clip(w.output.h, w.output.c);
    for b in 0..w.output.n {
        for oy in rows.clone() {
            for ox in 0..w.output.w {
                for c in chans.clone() {
                    f(w.output.offset(b, oy, ox, c), b, oy, ox, c);
                }
            }
        }
    }
}

/// Channels whose sums one pass over a window keeps (on the stack).
const AVG_BLOCK: usize = 32;

/// Tap-major: for each output pixel and block of up to `AVG_BLOCK` channels, every
/// in-bounds tap adds a contiguous run of input channels into the block's sums, so the
/// window is walked once per block instead of once per channel (a channel tile of a
/// global pool on the M33: 3.2x fewer instructions). Integer sums do not depend on their order, so
/// the result is the per-channel one.
pub fn average_pool_s8(p: &PoolParams, input: &[i8], output: Out<'_, i8>, tile: &Tile) {
    let w = &p.window;
    let (rows, chans) = tile.clip(w.output.h, w.output.c);
    for b in 0..w.output.n {
        for oy in rows.clone() {
            for ox in 0..w.output.w {
                let mut c0 = chans.start;
                while c0 < chans.end {
                    let n = (chans.end - c0).min(AVG_BLOCK);
                    let mut acc = [0i32; AVG_BLOCK];
                    let mut count = 0i32;
                    for ky in 0..w.filter.h {
                        let Some(iy) = w.in_y(oy, ky) else { continue };
                        for kx in 0..w.filter.w {
                            let Some(ix) = w.in_x(ox, kx) else { continue };
                            let at = w.input.offset(b, iy, ix, c0);
                            for (a, &v) in acc[..n].iter_mut().zip(&input[at..at + n]) {
                                *a += v as i32;
                            }
                            count += 1;
                        }
                    }
                    let o = w.output.offset(b, oy, ox, c0);
                    for (cell, &a) in output[o..o + n].iter().zip(&acc[..n]) {
                        // TFLM rejects an all-padding window at run time; a valid model has
                        // none, so write the zero-input average instead of failing.
                        let avg = if count == 0 { 0 } else { rounded_average(a, count) };
                        cell.set(avg.max(p.act_min).min(p.act_max) as i8);
                    }
                    c0 += n;
                }
            }
        }
    }
}

pub fn max_pool_s8(p: &PoolParams, input: &[i8], output: Out<'_, i8>, tile: &Tile) {
    let w = &p.window;
    for_each_output(w, tile, |o, b, oy, ox, c| {
        let mut m = i8::MIN as i32;
        for_each_tap(w, b, oy, ox, c, |i| m = m.max(input[i] as i32));
        output[o].set(m.max(p.act_min).min(p.act_max) as i8);
    });
}

pub fn average_pool_f32(p: &PoolF32Params, input: &[f32], output: Out<'_, f32>, tile: &Tile) {
    let w = &p.window;
    for_each_output(w, tile, |o, b, oy, ox, c| {
        let (mut total, mut count) = (0.0f32, 0i32);
        for_each_tap(w, b, oy, ox, c, |i| {
            total += input[i];
            count += 1;
        });
        let avg = if count == 0 { 0.0 } else { total / count as f32 };
        output[o].set(avg.max(p.act_min).min(p.act_max));
    });
}

pub fn max_pool_f32(p: &PoolF32Params, input: &[f32], output: Out<'_, f32>, tile: &Tile) {
    let w = &p.window;
    for_each_output(w, tile, |o, b, oy, ox, c| {
        let mut m = f32::MIN;
        for_each_tap(w, b, oy, ox, c, |i| m = m.max(input[i]));
        output[o].set(m.max(p.act_min).min(p.act_max));
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tile::cells;
    use crate::tile::Shape4;

    fn params() -> PoolParams {
        let w = Window2d {
            input: Shape4::new(1, 3, 3, 1), filter: Shape4::new(1, 2, 2, 1),
            output: Shape4::new(1, 2, 2, 1), stride_h: 2, stride_w: 2,
            dilation_h: 1, dilation_w: 1, pad_top: 0, pad_left: 0,
        };
        PoolParams { window: w, act_min: -128, act_max: 127 }
    }

    #[test]
    fn average_rounds_away_from_zero_and_clips_windows() {
        let input = [1i8, 2, -3, 4, 0, -4, -5, -6, 7];
        let mut out = [0i8; 4];
        average_pool_s8(&params(), &input, cells(&mut out), &Tile::new(0..2, 0..1));
        // (1+2+4+0)/4=1.75->2 ; (-3-4)/2=-3.5->-4 ; (-5-6)/2=-5.5->-6 ; 7
        assert_eq!(out, [2, -4, -6, 7]);
    }

    #[test]
    fn max_and_row_tiles() {
        let input = [1i8, 2, -3, 4, 0, -4, -5, -6, 7];
        let mut out = [0i8; 4];
        max_pool_s8(&params(), &input, cells(&mut out), &Tile::new(1..2, 0..1));
        assert_eq!(out, [0, 0, -5, 7]);
        max_pool_s8(&params(), &input, cells(&mut out), &Tile::new(0..1, 0..1));
        assert_eq!(out, [4, -3, -5, 7]);
    }
}
