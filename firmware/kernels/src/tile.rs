//! Shapes and tiles: the only geometry kernels share with the scheduler.
use core::cell::Cell;
use core::ops::Range;

/// A kernel's output buffer. Shared (`&[Cell<T>]`), never `&mut [T]`: cores run disjoint
/// tiles of one op at the same time over the same buffer, and two live `&mut` slices of
/// one buffer are undefined behaviour even when the written elements never overlap.
/// `Cell<T>` has `T`'s layout, so `set` compiles to the same plain store.
pub type Out<'a, T> = &'a [Cell<T>];

/// Views a buffer the caller owns exclusively as a kernel output (host code, tests).
/// A multi-core runtime instead builds one `Out` per core from the arena pointer.
#[inline]
pub fn cells<T>(v: &mut [T]) -> Out<'_, T> {
    Cell::from_mut(v).as_slice_of_cells()
}

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

/// The largest rank the shape-only ops (PAD, TRANSPOSE, STRIDED_SLICE, SPLIT,
/// CONCATENATION, MEAN, RESHAPE) handle; TFLM's own limit for them is 4 or 5.
pub const MAX_RANK: usize = 5;

/// A shape of rank <= 5, padded with leading 1s, so `[n, h, w, c]` is `[1, n, h, w, c]`.
///
/// Tiles over such a shape use the same convention as over [`Shape4`]: `rows` index dim
/// 2 (H of a padded NHWC shape) and `channels` dim 4 (the innermost).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ShapeN(pub [usize; MAX_RANK]);

impl ShapeN {
    pub const ROW_DIM: usize = 2;
    pub const CHANNEL_DIM: usize = MAX_RANK - 1;

    pub const fn len(&self) -> usize {
        let d = &self.0;
        d[0] * d[1] * d[2] * d[3] * d[4]
    }
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Row-major element strides.
    pub const fn strides(&self) -> [usize; MAX_RANK] {
        let d = &self.0;
        let s4 = 1;
        let s3 = d[4];
        let s2 = s3 * d[3];
        let s1 = s2 * d[2];
        [s1 * d[1], s1, s2, s3, s4]
    }
}

/// Visits the tile's elements of an N-D output in row-major order, giving each one's
/// index and flat offset. Dims other than rows and channels are visited whole.
#[inline]
pub fn for_each_in_tile_n(s: &ShapeN, tile: &Tile, mut f: impl FnMut(&[usize; MAX_RANK], usize)) {
    let (rows, chans) = tile.clip(s.0[ShapeN::ROW_DIM], s.0[ShapeN::CHANNEL_DIM]);
    if rows.is_empty() || chans.is_empty() {
        return;
    }
    let st = s.strides();
    let mut idx = [0usize; MAX_RANK];
    for a in 0..s.0[0] {
        idx[0] = a;
        for b in 0..s.0[1] {
            idx[1] = b;
            for r in rows.clone() {
                idx[2] = r;
                for w in 0..s.0[3] {
                    idx[3] = w;
                    let base = a * st[0] + b * st[1] + r * st[2] + w * st[3];
                    for c in chans.clone() {
                        idx[4] = c;
                        f(&idx, base + c);
                    }
                }
            }
        }
    }
}
