//! Shapes and tiles: the only geometry kernels share with the scheduler.
use core::ops::Range;

/// An NHWC shape; lower-rank tensors pad with leading 1s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Shape4 {
    pub n: usize,
    pub h: usize,
    pub w: usize,
    pub c: usize,
}

impl Shape4 {
    pub const fn new(n: usize, h: usize, w: usize, c: usize) -> Self {
        Shape4 { n, h, w, c }
    }
    pub const fn len(&self) -> usize {
        self.n * self.h * self.w * self.c
    }
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
    #[inline]
    pub const fn offset(&self, n: usize, h: usize, w: usize, c: usize) -> usize {
        ((n * self.h + h) * self.w + w) * self.c + c
    }
    pub const fn dims(&self) -> [usize; 4] {
        [self.n, self.h, self.w, self.c]
    }
}

/// The part of an output a kernel call computes: output rows (H of NHWC, over every
/// batch; for 2-D outputs the batch rows) and output channels (the innermost dim).
///
/// Kernels write only elements inside the tile, so disjoint tiles of one op can run on
/// different cores and together write every element exactly once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tile {
    pub rows: Range<usize>,
    pub channels: Range<usize>,
}

impl Tile {
    pub const fn new(rows: Range<usize>, channels: Range<usize>) -> Self {
        Tile { rows, channels }
    }
    /// The whole output of shape `s`.
    pub const fn full(s: Shape4) -> Self {
        Tile { rows: 0..s.h, channels: 0..s.c }
    }
    /// Clips the tile to the output so a too-large range can never index out of bounds.
    pub fn clip(&self, rows: usize, channels: usize) -> (Range<usize>, Range<usize>) {
        let r = self.rows.start.min(rows)..self.rows.end.min(rows);
        let c = self.channels.start.min(channels)..self.channels.end.min(channels);
        (r, c)
    }
}

/// Padding needed by TFLM's SAME scheme: `(before, extra_after)` for one spatial dim.
pub const fn same_padding(stride: usize, dilation: usize, in_size: usize, filter: usize, out_size: usize) -> (usize, usize) {
    let eff = (filter - 1) * dilation + 1;
    let needed = out_size.saturating_sub(1) * stride + eff;
    let total = needed.saturating_sub(in_size);
    (total / 2, total % 2)
}

/// The sliding-window geometry shared by CONV_2D, DEPTHWISE_CONV_2D and the pools.
///
/// `filter` is OHWI for convolutions ((1, kh, kw, C) for depthwise); pools only read its
/// `h` and `w`. Padding is explicit (top, left): TFLM's SAME padding, or a folded PAD op,
/// both reduce to these two numbers because windows are bounds-checked, never padded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window2d {
    pub input: Shape4,
    pub filter: Shape4,
    pub output: Shape4,
    pub stride_h: usize,
    pub stride_w: usize,
    pub dilation_h: usize,
    pub dilation_w: usize,
    pub pad_top: usize,
    pub pad_left: usize,
}

impl Window2d {
    /// Input coordinate of filter tap `k` for output coordinate `o`, or None when it
    /// falls into the padding.
    #[inline]
    pub fn in_y(&self, oy: usize, ky: usize) -> Option<usize> {
        tap(oy * self.stride_h + ky * self.dilation_h, self.pad_top, self.input.h)
    }
    #[inline]
    pub fn in_x(&self, ox: usize, kx: usize) -> Option<usize> {
        tap(ox * self.stride_w + kx * self.dilation_w, self.pad_left, self.input.w)
    }
}

#[inline]
fn tap(padded: usize, pad: usize, size: usize) -> Option<usize> {
    padded.checked_sub(pad).filter(|&i| i < size)
}

/// Visits the flat offsets of `tile` in an NHWC tensor of shape `s`, for elementwise ops
/// (rows = H, channels = C, over every batch and column).
#[inline]
pub fn for_each_in_tile(s: Shape4, tile: &Tile, mut f: impl FnMut(usize)) {
    let (rows, chans) = tile.clip(s.h, s.c);
    for n in 0..s.n {
        for h in rows.clone() {
            for w in 0..s.w {
                let base = s.offset(n, h, w, 0);
                for c in chans.clone() {
                    f(base + c);
                }
            }
        }
    }
}
