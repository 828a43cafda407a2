//! Inner loops shared by the int8 conv-like kernels (CONV_2D, DEPTHWISE_CONV_2D,
//! FULLY_CONNECTED): dot products of int8 vectors, several output channels at a time.
//!
//! Two implementations of each loop:
//! - `*_dsp`: the Armv7E-M / Armv8-M DSP extension's packed 16-bit multiply-accumulates
//!   (SXTB16 unpacks 4 int8 into two pairs of int16, SMLAD adds two products at once), the
//!   way CMSIS-NN does it. Used when the target has the DSP extension (`target_feature =
//!   "dsp"`: thumbv7em, or thumbv8m.main with `-C target-feature=+dsp`); on other targets
//!   the same code runs on plain-Rust emulations of the instructions, which is how the
//!   host tests check it.
//! - `*_portable`: plain loops for everything else (RISC-V, Cortex-M0+, hosts).
//!
//! All arithmetic is exact integer arithmetic modulo 2^32 (`wrapping_*`), so the order of
//! the products does not matter: results are bit-identical to TFLM's (ky, kx, ic) order.

/// Whether the DSP loops run on real instructions on this target: Armv7E-M (thumbv7em,
/// where the DSP extension is part of the architecture) and Armv8-M Mainline built with
/// `-C target-feature=+dsp` for every crate (the board's `firmware.rustflags`, which
/// arielml passes to all crates, `core` included). The cfg is only visible to compilers
/// that accept unstable target features (the build-std toolchain, RUSTC_BOOTSTRAP=1); a
/// stable rustup toolchain gets the portable loops: the same results, more instructions.
pub(crate) const HAS_DSP: bool = cfg!(all(target_arch = "arm", target_feature = "dsp"));

/// The DSP instructions the loops need: inline assembly on DSP targets, exact plain-Rust
/// equivalents elsewhere (for tests; release builds there use the portable loops).
#[allow(dead_code)]
pub(crate) mod dsp {
    #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
    mod imp {
        use core::arch::asm;
        /// Sign-extends bytes 0 and 2 into the two int16 lanes.
        #[inline(always)]
        pub fn sxtb16(x: u32) -> u32 {
            let r: u32;
            // SAFETY: a pure register-to-register instruction of the DSP extension, which
            // the cfg above guarantees; it touches no memory and no flags.
            unsafe { asm!("sxtb16 {r}, {x}", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack, preserves_flags)) };
            r
        }
        /// Sign-extends bytes 1 and 3 into the two int16 lanes.
        #[inline(always)]
        pub fn sxtb16_ror8(x: u32) -> u32 {
            let r: u32;
            // SAFETY: as `sxtb16`.
            unsafe { asm!("sxtb16 {r}, {x}, ror #8", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack, preserves_flags)) };
            r
        }
        /// Lane-wise wrapping int16 addition (sets the GE flags, nothing else).
        #[inline(always)]
        pub fn sadd16(a: u32, b: u32) -> u32 {
            let r: u32;
            // SAFETY: register-only DSP instruction; it writes the GE flags, so flags are
            // not declared preserved.
            unsafe { asm!("sadd16 {r}, {a}, {b}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, options(pure, nomem, nostack)) };
            r
        }
        /// `acc + a.lo * b.lo + a.hi * b.hi` (int16 lanes), wrapping (Q flag aside).
        #[inline(always)]
        pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
            let r: i32;
            // SAFETY: register-only DSP instruction; it may set the Q flag.
            unsafe { asm!("smlad {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack)) };
            r
        }
        /// `acc + a.lo * b.lo`.
        #[inline(always)]
        pub fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
            let r: i32;
            // SAFETY: register-only DSP instruction; it may set the Q flag.
            unsafe { asm!("smlabb {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack)) };
            r
        }
        /// `acc + a.hi * b.hi`.
        #[inline(always)]
        pub fn smlatt(a: u32, b: u32, acc: i32) -> i32 {
            let r: i32;
            // SAFETY: register-only DSP instruction; it may set the Q flag.
            unsafe { asm!("smlatt {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack)) };
            r
        }
    }

    #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
    mod imp {
        #[inline(always)]
        fn lo(x: u32) -> i32 {
            x as u16 as i16 as i32
        }
        #[inline(always)]
        fn hi(x: u32) -> i32 {
            (x >> 16) as u16 as i16 as i32
        }
        #[inline(always)]
        fn pack(l: i32, h: i32) -> u32 {
            (l as u16 as u32) | ((h as u16 as u32) << 16)
        }
        pub fn sxtb16(x: u32) -> u32 {
            pack(x as u8 as i8 as i32, (x >> 16) as u8 as i8 as i32)
        }
        pub fn sxtb16_ror8(x: u32) -> u32 {
            sxtb16(x.rotate_right(8))
        }
        pub fn sadd16(a: u32, b: u32) -> u32 {
            pack(lo(a).wrapping_add(lo(b)), hi(a).wrapping_add(hi(b)))
        }
        pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
            acc.wrapping_add(lo(a) * lo(b)).wrapping_add(hi(a) * hi(b))
        }
        pub fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
            acc.wrapping_add(lo(a) * lo(b))
        }
        pub fn smlatt(a: u32, b: u32, acc: i32) -> i32 {
            acc.wrapping_add(hi(a) * hi(b))
        }
    }

    pub use imp::*;

    /// `off` in both int16 lanes.
    #[inline(always)]
    pub fn pair(off: i32) -> u32 {
        (off as u16 as u32) * 0x0001_0001
    }
}

/// The input offsets the DSP loops can add in int16 lanes without overflow
/// (`x + off` for every int8 `x`); TFLM's are -zero_point, within -127..=128.
#[inline(always)]
pub(crate) fn dsp_offset_ok(off: i32) -> bool {
    (-32_000..=32_000).contains(&off)
}

#[inline(always)]
fn word(s: &[i8]) -> u32 {
    // `s` is a 4-byte chunk: this is one (unaligned) 32-bit load.
    u32::from_le_bytes([s[0] as u8, s[1] as u8, s[2] as u8, s[3] as u8])
}

/// `acc[j] += sum_i x[i] * w[j][i]` (`OFF`: `sum_i (x[i] + off) * w[j][i]`) over
/// `n = x.len()` elements; every `w[j]` must hold at least `n`.
#[inline(always)]
pub(crate) fn dot<const N: usize, const OFF: bool>(x: &[i8], w: [&[i8]; N], off: i32, acc: &mut [i32; N]) {
    if HAS_DSP && (!OFF || dsp_offset_ok(off)) {
        dot_dsp::<N, OFF>(x, w, off, acc)
    } else {
        dot_portable::<N, OFF>(x, w, off, acc)
    }
}

#[inline(always)]
pub(crate) fn dot_portable<const N: usize, const OFF: bool>(x: &[i8], w: [&[i8]; N], off: i32, acc: &mut [i32; N]) {
    let n = x.len();
    let w: [&[i8]; N] = core::array::from_fn(|j| &w[j][..n]);
    let mut a = *acc;
    for i in 0..n {
        let xv = if OFF { x[i] as i32 + off } else { x[i] as i32 };
        for j in 0..N {
            a[j] = a[j].wrapping_add(xv.wrapping_mul(w[j][i] as i32));
        }
    }
    *acc = a;
}

#[inline(always)]
pub(crate) fn dot_dsp<const N: usize, const OFF: bool>(x: &[i8], w: [&[i8]; N], off: i32, acc: &mut [i32; N]) {
    use dsp::*;
    let n = x.len();
    // Bounds: every row holds at least n bytes (this panics otherwise), so every
    // pointer below stays inside its slice.
    let mut wp: [*const i8; N] = core::array::from_fn(|j| w[j][..n].as_ptr());
    let mut xp = x.as_ptr();
    let off2 = pair(off);
    let mut a = *acc;
    let mut body = n / 4;
    while body > 0 {
        // SAFETY: `body` counts the whole 4-byte chunks left, and xp and every wp[j]
        // advance by 4 per chunk from the start of an n-byte (or longer) slice.
        unsafe {
            let xv = core::ptr::read_unaligned(xp as *const u32);
            xp = xp.add(4);
            let (mut xe, mut xo) = (sxtb16(xv), sxtb16_ror8(xv));
            if OFF {
                xe = sadd16(xe, off2);
                xo = sadd16(xo, off2);
            }
            for j in 0..N {
                let wv = core::ptr::read_unaligned(wp[j] as *const u32);
                wp[j] = wp[j].add(4);
                a[j] = smlad(xe, sxtb16(wv), a[j]);
                a[j] = smlad(xo, sxtb16_ror8(wv), a[j]);
            }
        }
        body -= 1;
    }
    for i in n & !3..n {
        let xv = if OFF { x[i] as i32 + off } else { x[i] as i32 };
        for j in 0..N {
            a[j] = a[j].wrapping_add(xv.wrapping_mul(w[j][i] as i32));
        }
    }
    *acc = a;
}

/// Depthwise step: four consecutive channels of one tap,
/// `acc[c] += x[c] * w[c]` (`OFF`: `(x[c] + off) * w[c]`).
#[inline(always)]
pub(crate) fn mac4<const OFF: bool>(x: &[i8], w: &[i8], off: i32, acc: &mut [i32; 4]) {
    if HAS_DSP && (!OFF || dsp_offset_ok(off)) {
        mac4_dsp::<OFF>(x, w, off, acc)
    } else {
        mac4_portable::<OFF>(x, w, off, acc)
    }
}

#[inline(always)]
pub(crate) fn mac4_portable<const OFF: bool>(x: &[i8], w: &[i8], off: i32, acc: &mut [i32; 4]) {
    let (x, w) = (&x[..4], &w[..4]);
    for c in 0..4 {
        let xv = if OFF { x[c] as i32 + off } else { x[c] as i32 };
        acc[c] = acc[c].wrapping_add(xv.wrapping_mul(w[c] as i32));
    }
}

#[inline(always)]
pub(crate) fn mac4_dsp<const OFF: bool>(x: &[i8], w: &[i8], off: i32, acc: &mut [i32; 4]) {
    use dsp::*;
    let (xv, wv) = (word(&x[..4]), word(&w[..4]));
    let (mut xe, mut xo) = (sxtb16(xv), sxtb16_ror8(xv));
    if OFF {
        let off2 = pair(off);
        xe = sadd16(xe, off2);
        xo = sadd16(xo, off2);
    }
    let (we, wo) = (sxtb16(wv), sxtb16_ror8(wv));
    acc[0] = smlabb(xe, we, acc[0]);
    acc[1] = smlabb(xo, wo, acc[1]);
    acc[2] = smlatt(xe, we, acc[2]);
    acc[3] = smlatt(xo, wo, acc[3]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> i8 {
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (*seed >> 33) as i8
    }

    fn naive(x: &[i8], w: &[i8], off: i32, off_on: bool) -> i32 {
        let o = if off_on { off } else { 0 };
        x.iter().zip(w).fold(0i32, |a, (x, w)| a.wrapping_add((*x as i32 + o) * *w as i32))
    }

    #[test]
    fn dot_variants_agree() {
        let mut s = 7u64;
        for n in 0..40usize {
            for off in [-128, -1, 0, 5, 127, 128] {
                let x: [i8; 40] = core::array::from_fn(|_| lcg(&mut s));
                let w: [[i8; 40]; 4] = core::array::from_fn(|_| core::array::from_fn(|_| lcg(&mut s)));
                let x = &x[..n];
                let ws = [&w[0][..], &w[1][..], &w[2][..], &w[3][..]];
                let start = [3, -7, 1 << 30, i32::MIN];
                for off_on in [false, true] {
                    let want: [i32; 4] = core::array::from_fn(|j| start[j].wrapping_add(naive(x, &w[j][..n], off, off_on)));
                    let (mut a, mut b) = (start, start);
                    if off_on {
                        dot_dsp::<4, true>(x, ws, off, &mut a);
                        dot_portable::<4, true>(x, ws, off, &mut b);
                    } else {
                        dot_dsp::<4, false>(x, ws, off, &mut a);
                        dot_portable::<4, false>(x, ws, off, &mut b);
                    }
                    assert_eq!(a, want);
                    assert_eq!(b, want);
                    let mut c = [start[0]];
                    dot::<1, true>(x, [ws[0]], off, &mut c);
                    assert_eq!(c[0], start[0].wrapping_add(naive(x, &w[0][..n], off, true)));
                }
            }
        }
    }

    #[test]
    fn mac4_variants_agree() {
        let mut s = 11u64;
        for _ in 0..200 {
            let x: [i8; 4] = core::array::from_fn(|_| lcg(&mut s));
            let w: [i8; 4] = core::array::from_fn(|_| lcg(&mut s));
            for off in [-128, 0, 128, 77] {
                let start = [1, -2, 3, i32::MAX];
                let want: [i32; 4] = core::array::from_fn(|c| start[c].wrapping_add((x[c] as i32 + off) * w[c] as i32));
                let (mut a, mut b) = (start, start);
                mac4_dsp::<true>(&x, &w, off, &mut a);
                mac4_portable::<true>(&x, &w, off, &mut b);
                assert_eq!(a, want);
                assert_eq!(b, want);
                let want0: [i32; 4] = core::array::from_fn(|c| start[c].wrapping_add(x[c] as i32 * w[c] as i32));
                let (mut a, mut b) = (start, start);
                mac4_dsp::<false>(&x, &w, off, &mut a);
                mac4_portable::<false>(&x, &w, off, &mut b);
                assert_eq!(a, want0);
                assert_eq!(b, want0);
            }
        }
    }
}
