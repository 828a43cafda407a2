//! int8 CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED over weights the compiler packed.
//!
//! What a library decides per call is decided here at build time (python/arielml/lower/
//! packing.py) and arrives as data or as const generics:
//! - weights are packed for the micro-kernel family of the target: output channels in
//!   blocks of `MR`, the reduction dimension K (kh * kw * cin, OHWI order) in chunks of
//!   `KC` values, zero-padded to whole blocks and chunks ([`Micro::KC`], `layout`);
//! - the input offset is folded into the bias: `bias + input_offset * sum_k(w)`, so the
//!   inner loops multiply raw int8 inputs. A padding tap must then contribute
//!   `x * w = -input_offset * w`, so the im2col row puts the input zero point there
//!   (`pad_value`): exactly TFLM's result, whose padding taps are skipped;
//! - requantization takes the short exact form ([`FastRequant`]) when the compiler has
//!   bounded every accumulator (`FAST`, a const generic: no branch at run time).
//!
//! A tile is a range of output rows and channels, as for every kernel: its pixels are
//! taken `NR` at a time (their K-rows read in place for a pointwise conv or a fully
//! connected layer, else gathered into `scratch`), and every channel block of the tile
//! is computed for them by the family's micro-kernel. Bounds are checked once per call
//! (the tensors' lengths against their shapes); the loops then use raw pointers.
use core::cell::Cell;

use crate::requant::{FastRequant, Requant};
use crate::tile::{Out, Tile, Window2d};

pub mod dsp;
pub mod portable;
pub mod v6m;

/// A micro-kernel family: how packed weights and prepared inputs look, and the inner loop.
pub trait Micro<const MR: usize, const NR: usize> {
    /// K values per packed chunk: chunk c of block b holds, for each of the MR channels in
    /// turn, KC consecutive K values (`KC == 1`: the MR channels' weights of one k). K is
    /// padded with zero weights to `kp`, a multiple of 4 and of KC. `KC == 0`: one chunk of
    /// the whole `kp` (a block is its MR channels' rows).
    const KC: usize;
    /// Bytes of prepared input per K value per pixel (0: the micro-kernel reads the rows).
    const PREPARED_BYTES_PER_K: usize;

    /// Turn `NR` rows of `kp` int8 values into the form `dot` reads (`prepared`).
    ///
    /// # Safety
    /// Every row is valid for `kp` reads, `prepared` for `NR * kp * PREPARED_BYTES_PER_K / 4`
    /// word writes.
    unsafe fn prepare(rows: &[*const i8; NR], kp: usize, prepared: *mut u32);

    /// `acc[p][j] += sum_k rows[p][k] * w[j][k]` for one block of packed weights.
    ///
    /// # Safety
    /// As `prepare`, and `w` is valid for `kp * MR / 4` words (one block), `kp >= 4`.
    unsafe fn dot(rows: &[*const i8; NR], prepared: *const u32, w: *const u32, kp: usize, acc: &mut [[i32; MR]; NR]);
}

/// Packed weights and per-channel constants of one op (see the module docs).
#[derive(Clone, Copy, Debug)]
pub struct Packed<'a> {
    pub weights: &'a [u32],
    /// Per output channel: bias + input_offset * sum(w) (int32, wrapping as TFLM's sum),
    /// zero-padded to whole blocks.
    pub bias: &'a [i32],
    pub multiplier: &'a [i32],
    pub shift: &'a [i32],
}

params! {
    /// Geometry and output quantization of a packed CONV_2D.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct GemmConv {
        given {
            /// `filter` is (out_channels, kh, kw, in_channels).
            pub window: Window2d,
        }
        /// K padded to a multiple of 4 (every family's chunks fit in it).
        pub kp: usize,
        /// The input zero point, for padding taps.
        pub pad_value: i8,
        /// Rows are read in place: a 1x1 filter without padding, `in_channels == kp`. Else
        /// each pixel's window is gathered into `scratch` (im2col).
        pub direct: bool,
        pub output_offset: i32,
        pub act_min: i32,
        pub act_max: i32,
    }
}

/// Words of `scratch` a call needs: gathered rows (unless read in place), then the
/// prepared rows.
pub const fn scratch_words(kp: usize, nr: usize, direct: bool, prepared_bytes_per_k: usize) -> usize {
    let gathered = if direct { 0 } else { nr * kp.div_ceil(4) };
    gathered + (nr * kp * prepared_bytes_per_k).div_ceil(4)
}

/// Where outputs go and how they are requantized.
struct Sink<'a> {
    out: *const Cell<i8>,
    multiplier: *const i32,
    shift: *const i32,
    bias: &'a [i32],
    chans: core::ops::Range<usize>,
    offset: i32,
    lo: i32,
    hi: i32,
}

impl<'a> Sink<'a> {
    /// Checks once what every store relies on: `out` holds `out_len` outputs, the
    /// per-channel tables cover the tile's channels padded to whole blocks of `mr`.
    fn new(out: Out<'_, i8>, out_len: usize, q: &Packed<'a>, chans: core::ops::Range<usize>, mr: usize,
           offset: i32, lo: i32, hi: i32) -> Self {
        assert!(out.len() >= out_len);
        assert!(q.multiplier.len() >= chans.end && q.shift.len() >= chans.end);
        assert!(q.bias.len() >= chans.end.div_ceil(mr) * mr);
        Sink { out: out.as_ptr(), multiplier: q.multiplier.as_ptr(), shift: q.shift.as_ptr(), bias: q.bias, chans, offset, lo, hi }
    }

    #[inline(always)]
    fn bias<const MR: usize>(&self, first: usize) -> [i32; MR] {
        // SAFETY: `new` checked the table against the tile's last block.
        core::array::from_fn(|j| unsafe { *self.bias.get_unchecked(first + j) })
    }

    /// Stores `valid` pixels' outputs (at `bases[p] + channel`) of channels
    /// `first..first + MR` that are in the tile.
    ///
    /// # Safety
    /// `bases[p] + first + MR <= out_len` for the pixels stored.
    #[inline(always)]
    unsafe fn store<const MR: usize, const NR: usize, const FAST: bool>(
        &self, first: usize, bases: &[usize; NR], valid: usize, acc: &[[i32; MR]; NR],
    ) {
        let full = first >= self.chans.start && first + MR <= self.chans.end;
        for j in 0..MR {
            let oc = first + j;
            if !full && (oc < self.chans.start || oc >= self.chans.end) {
                continue;
            }
            let (m, s) = (*self.multiplier.add(oc), *self.shift.add(oc));
            for p in 0..NR {
                if NR > 1 && p >= valid {
                    break;
                }
                let v = if FAST {
                    FastRequant::new(m, s, self.offset, self.lo, self.hi).apply(acc[p][j])
                } else {
                    Requant::new(m, s, self.offset, self.lo, self.hi).apply(acc[p][j])
                };
                (*self.out.add(bases[p] + oc)).set(v);
            }
        }
    }
}

/// Runs every channel block of the tile over `NR` pixels whose rows are ready.
///
/// # Safety
/// Rows valid for `kp` reads, `prepared` as [`Micro::prepare`] needs, the weights hold
/// every block of the tile, outputs as [`Sink::store`] needs.
#[inline(always)]
unsafe fn blocks<F: Micro<MR, NR>, const MR: usize, const NR: usize, const FAST: bool>(
    rows: &[*const i8; NR], prepared: *mut u32, kp: usize, weights: *const u32, sink: &Sink<'_>,
    bases: &[usize; NR], valid: usize,
) {
    F::prepare(rows, kp, prepared);
    let block_words = kp * MR / 4;
    let (first, last) = (sink.chans.start / MR, sink.chans.end.div_ceil(MR));
    let mut w = weights.add(first * block_words);
    for block in first..last {
        let mut acc = [sink.bias::<MR>(block * MR); NR];
        F::dot(rows, prepared, w, kp, &mut acc);
        sink.store::<MR, NR, FAST>(block * MR, bases, valid, &acc);
        w = w.add(block_words);
    }
}

/// `dst.copy_from_slice(src)` for the short runs of im2col (one tap's channels, one
/// filter row): whole words when both sides are word-aligned, else bytes, with no call
/// (a `memcpy` call costs more than these copies on small cores).
#[inline(always)]
fn copy_run(dst: &mut [i8], src: &[i8]) {
    assert!(dst.len() == src.len());
    let n = src.len();
    let (d, s) = (dst.as_mut_ptr(), src.as_ptr());
    if (d as usize | s as usize | n) % 4 == 0 {
        // SAFETY: both ranges hold n bytes (asserted), n and both starts are multiples of 4,
        // and the two slices cannot overlap (one is borrowed mutably).
        unsafe {
            for i in 0..n / 4 {
                d.cast::<u32>().add(i).write(s.cast::<u32>().add(i).read());
            }
        }
    } else {
        for (a, b) in dst.iter_mut().zip(src) {
            *a = *b;
        }
    }
}

/// Writes pixel (b, oy, ox)'s window, K values in OHWI order then `pad_value` up to `kp`,
/// into `row`; taps outside the input hold `pad_value`.
#[inline]
fn gather(w: &Window2d, pad_value: i8, input: &[i8], b: usize, oy: usize, ox: usize, row: &mut [i8]) {
    let c = w.input.c;
    let (kh, kw) = (w.filter.h, w.filter.w);
    let iy0 = (oy * w.stride_h) as isize - w.pad_top as isize;
    let ix0 = (ox * w.stride_w) as isize - w.pad_left as isize;
    let inside_x = ix0 >= 0 && ix0 as usize + (kw - 1) * w.dilation_w < w.input.w;
    let mut i = 0;
    for ky in 0..kh {
        let iy = iy0 + (ky * w.dilation_h) as isize;
        if iy < 0 || iy as usize >= w.input.h {
            row[i..i + kw * c].fill(pad_value);
            i += kw * c;
            continue;
        }
        if inside_x && w.dilation_w == 1 {
            // The row's taps are contiguous in the input.
            let s = w.input.offset(b, iy as usize, ix0 as usize, 0);
            copy_run(&mut row[i..i + kw * c], &input[s..s + kw * c]);
            i += kw * c;
            continue;
        }
        for kx in 0..kw {
            let dst = &mut row[i..i + c];
            match w.in_x(ox, kx) {
                Some(ix) => {
                    let s = w.input.offset(b, iy as usize, ix, 0);
                    copy_run(dst, &input[s..s + c]);
                }
                None => dst.fill(pad_value),
            }
            i += c;
        }
    }
    row[i..].fill(pad_value);
}

/// Output pixels of a tile in order: (oy, ox) advanced without division.
struct Pixels {
    oy: usize,
    ox: usize,
    width: usize,
}

impl Pixels {
    #[inline(always)]
    fn next(&mut self) -> (usize, usize) {
        let at = (self.oy, self.ox);
        self.ox += 1;
        if self.ox == self.width {
            self.ox = 0;
            self.oy += 1;
        }
        at
    }
}

/// CONV_2D (ungrouped, int8, per-channel requantization) over packed weights.
pub fn conv_s8<F: Micro<MR, NR>, const MR: usize, const NR: usize, const FAST: bool>(
    p: &GemmConv, q: &Packed<'_>, input: &[i8], output: Out<'_, i8>, tile: &Tile, scratch: &mut [u32],
) {
    let w = &p.window;
    let (rows, chans) = tile.clip(w.output.h, w.output.c);
    if rows.is_empty() || chans.is_empty() || w.output.n == 0 || w.output.w == 0 {
        return;
    }
    let kp = p.kp;
    assert!(kp >= 4 && kp % 4 == 0 && kp >= w.filter.h * w.filter.w * w.input.c);
    assert!(input.len() >= w.input.len());
    assert!(q.weights.len() >= chans.end.div_ceil(MR) * kp * MR / 4);
    assert!(scratch.len() >= scratch_words(kp, NR, p.direct, F::PREPARED_BYTES_PER_K));
    if p.direct {
        assert!(w.filter.h == 1 && w.filter.w == 1 && w.input.c == kp && w.pad_top == 0 && w.pad_left == 0);
        assert!((w.output.h - 1) * w.stride_h < w.input.h && (w.output.w - 1) * w.stride_w < w.input.w);
    }
    let sink = Sink::new(output, w.output.len(), q, chans, MR, p.output_offset, p.act_min, p.act_max);
    let gathered_words = if p.direct { 0 } else { NR * kp / 4 };
    let (gathered, prepared) = scratch.split_at_mut(gathered_words);
    let prepared = prepared.as_mut_ptr();
    // SAFETY: u32 -> i8 reinterpretation of an exclusively borrowed buffer; every bit
    // pattern is a valid i8 and the length is the buffer's byte length.
    let gathered: &mut [i8] =
        unsafe { core::slice::from_raw_parts_mut(gathered.as_mut_ptr().cast::<i8>(), gathered.len() * 4) };
    let pixels = rows.len() * w.output.w;
    let mut bases = [0usize; NR];
    let mut at = [(0usize, 0usize); NR];
    for b in 0..w.output.n {
        let mut it = Pixels { oy: rows.start, ox: 0, width: w.output.w };
        let mut done = 0;
        while done < pixels {
            let valid = NR.min(pixels - done);
            for k in 0..NR {
                // A short last group repeats its last pixel (computed, not stored).
                if k < valid {
                    at[k] = it.next();
                } else {
                    at[k] = at[valid - 1];
                }
                bases[k] = w.output.offset(b, at[k].0, at[k].1, 0);
            }
            let r: [*const i8; NR] = if p.direct {
                core::array::from_fn(|k| {
                    let (oy, ox) = at[k];
                    // In bounds: asserted above for the last pixel.
                    input[w.input.offset(b, oy * w.stride_h, ox * w.stride_w, 0)..].as_ptr()
                })
            } else {
                for (k, row) in gathered.chunks_exact_mut(kp).take(NR).enumerate() {
                    let (oy, ox) = at[k];
                    gather(w, p.pad_value, input, b, oy, ox, row);
                }
                core::array::from_fn(|k| gathered[k * kp..].as_ptr())
            };
            // SAFETY: rows hold kp values (read in place: in_channels == kp; gathered: kp
            // per row), scratch and weights were checked above, bases are pixels of the
            // output whose length the sink checked.
            unsafe { blocks::<F, MR, NR, FAST>(&r, prepared, kp, q.weights.as_ptr(), &sink, &bases, valid) };
            done += valid;
        }
    }
}

params! {
    /// FULLY_CONNECTED geometry and output quantization (filter offset 0, as TFLM requires
    /// for int8 filters).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct GemmFc {
        pub batches: usize,
        pub depth: usize,
        pub units: usize,
        /// `depth` padded to a multiple of 4; `depth == kp` reads input rows in place.
        pub kp: usize,
        pub output_offset: i32,
        pub act_min: i32,
        pub act_max: i32,
    }
}

/// FULLY_CONNECTED over packed weights: rows are batches, channels are units.
pub fn fully_connected_s8<F: Micro<MR, NR>, const MR: usize, const NR: usize, const FAST: bool>(
    p: &GemmFc, q: &Packed<'_>, input: &[i8], output: Out<'_, i8>, tile: &Tile, scratch: &mut [u32],
) {
    let (rows, chans) = tile.clip(p.batches, p.units);
    if rows.is_empty() || chans.is_empty() {
        return;
    }
    let (kp, d) = (p.kp, p.depth);
    assert!(kp >= 4 && kp % 4 == 0 && kp >= d);
    assert!(input.len() >= p.batches * d);
    assert!(q.weights.len() >= chans.end.div_ceil(MR) * kp * MR / 4);
    let direct = kp == d;
    assert!(scratch.len() >= scratch_words(kp, NR, direct, F::PREPARED_BYTES_PER_K));
    let sink = Sink::new(output, p.batches * p.units, q, chans, MR, p.output_offset, p.act_min, p.act_max);
    let (gathered, prepared) = scratch.split_at_mut(if direct { 0 } else { NR * kp / 4 });
    let prepared = prepared.as_mut_ptr();
    // SAFETY: as in `conv_s8`.
    let gathered: &mut [i8] =
        unsafe { core::slice::from_raw_parts_mut(gathered.as_mut_ptr().cast::<i8>(), gathered.len() * 4) };
    let mut b = rows.start;
    while b < rows.end {
        let valid = NR.min(rows.end - b);
        let at: [usize; NR] = core::array::from_fn(|k| b + k.min(valid - 1));
        let bases: [usize; NR] = core::array::from_fn(|k| at[k] * p.units);
        let r: [*const i8; NR] = if direct {
            core::array::from_fn(|k| input[at[k] * d..].as_ptr())
        } else {
            for (k, row) in gathered.chunks_exact_mut(kp).take(NR).enumerate() {
                row[..d].copy_from_slice(&input[at[k] * d..(at[k] + 1) * d]);
                row[d..].fill(0);
            }
            core::array::from_fn(|k| gathered[k * kp..].as_ptr())
        };
        // SAFETY: as in `conv_s8`.
        unsafe { blocks::<F, MR, NR, FAST>(&r, prepared, kp, q.weights.as_ptr(), &sink, &bases, valid) };
        b += valid;
    }
}

/// Taps of a packed DEPTHWISE_CONV_2D for four consecutive channels.
pub trait DwMicro {
    /// Packed weight words per tap of a four-channel group.
    const WORDS_PER_TAP: usize;
    /// `acc[c] += x[c] * w[c]`, c in 0..4, from four input bytes and the tap's words.
    ///
    /// # Safety
    /// `x` valid for 4 reads, `w` for `WORDS_PER_TAP` words.
    unsafe fn tap(x: *const i8, w: *const u32, acc: &mut [i32; 4]);
}

params! {
    /// Geometry and output quantization of a packed DEPTHWISE_CONV_2D (depth multiplier 1).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct GemmDepthwise {
        given {
            /// `filter` is (1, kh, kw, channels).
            pub window: Window2d,
        }
        pub pad_value: i8,
        pub output_offset: i32,
        pub act_min: i32,
        pub act_max: i32,
    }
}

/// Words of `scratch` a packed DEPTHWISE_CONV_2D over `channels` channels needs: one
/// input pixel of padding values, which padding taps read.
pub const fn depthwise_scratch_words(channels: usize) -> usize {
    channels.div_ceil(4)
}

/// The most taps (kh * kw) whose input pointers a pixel keeps in a table; larger filters
/// run tap by tap.
const MAX_TAPS: usize = 25;

/// DEPTHWISE_CONV_2D over weights packed in groups of four channels ([`DwMicro`]); the
/// bias table (folded, see the module docs) is padded to whole groups. A tap outside the
/// input reads `pad_value`s (a pixel of them in `scratch`), which with the folded bias is
/// TFLM's skipped tap. `KH`, `KW`: the filter's size when the compiler instantiated it
/// (0: read from `p`).
///
/// Per output pixel, the input pointer of every tap (or of the padding pixel) is found
/// once; every group of four channels then reads its taps at `pointer + 4 * group`.
pub fn depthwise_s8<F: DwMicro, const KH: usize, const KW: usize, const FAST: bool>(
    p: &GemmDepthwise, q: &Packed<'_>, input: &[i8], output: Out<'_, i8>, tile: &Tile, scratch: &mut [u32],
) {
    let w = &p.window;
    let (rows, chans) = tile.clip(w.output.h, w.output.c);
    if rows.is_empty() || chans.is_empty() || w.output.n == 0 || w.output.w == 0 {
        return;
    }
    let kh = if KH > 0 { KH } else { w.filter.h };
    let kw = if KW > 0 { KW } else { w.filter.w };
    assert!(kh == w.filter.h && kw == w.filter.w && w.filter.c == w.input.c && w.output.c == w.input.c);
    let c = w.input.c;
    assert!(input.len() >= w.input.len());
    let taps = kh * kw;
    let group_words = taps * F::WORDS_PER_TAP;
    let groups = chans.start / 4..chans.end.div_ceil(4);
    assert!(q.weights.len() >= groups.end * group_words);
    let sink = Sink::new(output, w.output.len(), q, chans, 4, p.output_offset, p.act_min, p.act_max);
    let pad_row = &mut scratch[..depthwise_scratch_words(c)];
    pad_row.fill(u32::from_ne_bytes([p.pad_value as u8; 4]));
    let pad_ptr = pad_row.as_ptr().cast::<i8>();
    // Groups whose four channels all exist read their input in place; a last group of
    // fewer channels reads a copy padded to four.
    let whole = c / 4;
    let wts = q.weights.as_ptr();
    let mut tab = [pad_ptr; MAX_TAPS];
    for b in 0..w.output.n {
        for oy in rows.clone() {
            let iy0 = (oy * w.stride_h) as isize - w.pad_top as isize;
            for ox in 0..w.output.w {
                let ix0 = (ox * w.stride_w) as isize - w.pad_left as isize;
                let base = [w.output.offset(b, oy, ox, 0)];
                if taps > MAX_TAPS {
                    for g in groups.clone() {
                        let mut acc = sink.bias::<4>(4 * g);
                        for t in 0..taps {
                            let (iy, ix) = (iy0 + ((t / kw) * w.dilation_h) as isize, ix0 + ((t % kw) * w.dilation_w) as isize);
                            let mut x = [p.pad_value; 4];
                            if iy >= 0 && (iy as usize) < w.input.h && ix >= 0 && (ix as usize) < w.input.w {
                                let at = w.input.offset(b, iy as usize, ix as usize, 4 * g);
                                let n = (c - 4 * g).min(4);
                                x[..n].copy_from_slice(&input[at..at + n]);
                            }
                            // SAFETY: `x` is four bytes; the tap's words are in the group.
                            unsafe { F::tap(x.as_ptr(), wts.add(g * group_words + t * F::WORDS_PER_TAP), &mut acc) };
                        }
                        // SAFETY: channels past c are not in the tile (the sink skips them).
                        unsafe { sink.store::<4, 1, FAST>(4 * g, &base, 1, &[acc]) };
                    }
                    continue;
                }
                for ky in 0..kh {
                    let iy = iy0 + (ky * w.dilation_h) as isize;
                    let row_in = iy >= 0 && (iy as usize) < w.input.h;
                    for kx in 0..kw {
                        let ix = ix0 + (kx * w.dilation_w) as isize;
                        tab[ky * kw + kx] = if row_in && ix >= 0 && (ix as usize) < w.input.w {
                            input[w.input.offset(b, iy as usize, ix as usize, 0)..].as_ptr()
                        } else {
                            pad_ptr
                        };
                    }
                }
                for g in groups.clone() {
                    let mut acc = sink.bias::<4>(4 * g);
                    // SAFETY: g < groups.end, whose weights were checked above.
                    let mut wt = unsafe { wts.add(g * group_words) };
                    if g < whole {
                        for &at in &tab[..taps] {
                            // SAFETY: `at` is a pixel of the input or the padding pixel, both
                            // of c channels, and the group's four channels exist (g < whole).
                            unsafe {
                                F::tap(at.add(4 * g), wt, &mut acc);
                                wt = wt.add(F::WORDS_PER_TAP);
                            }
                        }
                    } else {
                        for &at in &tab[..taps] {
                            let mut x = [p.pad_value; 4];
                            for (k, v) in x.iter_mut().enumerate().take(c - 4 * g) {
                                // SAFETY: channel 4g + k < c of a pixel of c channels.
                                *v = unsafe { *at.add(4 * g + k) };
                            }
                            // SAFETY: `x` is four bytes; the tap's words are in the group.
                            unsafe {
                                F::tap(x.as_ptr(), wt, &mut acc);
                                wt = wt.add(F::WORDS_PER_TAP);
                            }
                        }
                    }
                    // SAFETY: base + 4g + 4 <= out_len, or the channels past c are not in
                    // the tile (the sink skips them).
                    unsafe { sink.store::<4, 1, FAST>(4 * g, &base, 1, &[acc]) };
                }
            }
        }
    }
}
