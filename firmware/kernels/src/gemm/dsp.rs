//! The Armv7E-M / Armv8-M DSP family: SXTB16 + SMLAD, two products per instruction.
//!
//! Weights: KC = 4, so each u32 of a block is four K values of one channel. Inputs are
//! widened once per pixel (`prepare`): for chunk c and pixel p, the words `2(c*NR + p)`
//! and `2(c*NR + p) + 1` hold the int16 pairs (x0, x2) and (x1, x3), the lanes SXTB16 and
//! SXTB16 ROR #8 make of the weight word, so the inner loop widens only the weights and
//! every input word serves all of the tile's channel blocks.
//!
//! The blockings the compiler uses (2 channels x 2 pixels for convolutions, 4 x 1 for
//! fully connected layers) have hand-scheduled loops on the target: one LDM of the
//! chunk's inputs, one of its weights, and SMLADs, every value in a register (16 and 20
//! instructions per 16 multiply-accumulates). Other blockings, and every blocking on a
//! target without the extension (host tests), run the same arithmetic in Rust on the
//! instruction models of `simd::dsp`.
use super::Micro;
use crate::simd::dsp::{smlad, sxtb16, sxtb16_ror8};

pub struct Dsp;

impl<const MR: usize, const NR: usize> Micro<MR, NR> for Dsp {
    const KC: usize = 4;
    const PREPARED_BYTES_PER_K: usize = 2;

    #[inline(always)]
    unsafe fn prepare(rows: &[*const i8; NR], kp: usize, prepared: *mut u32) {
        let chunks = kp / 4;
        for (p, row) in rows.iter().enumerate() {
            let mut src = row.cast::<u32>();
            let mut dst = prepared.add(2 * p);
            for _ in 0..chunks {
                let v = src.read_unaligned();
                dst.write(sxtb16(v));
                dst.add(1).write(sxtb16_ror8(v));
                src = src.add(1);
                dst = dst.add(2 * NR);
            }
        }
    }

    #[inline(always)]
    unsafe fn dot(_rows: &[*const i8; NR], prepared: *const u32, w: *const u32, kp: usize, acc: &mut [[i32; MR]; NR]) {
        let chunks = kp / 4;
        #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
        {
            if MR == 2 && NR == 2 {
                return dot_2x2(prepared, w, chunks, acc.as_mut_ptr().cast::<i32>());
            }
            if MR == 4 && NR == 1 {
                return dot_4x1(prepared, w, chunks, acc.as_mut_ptr().cast::<i32>());
            }
        }
        let mut a = *acc;
        let (mut x, mut w) = (prepared, w);
        for _ in 0..chunks {
            for j in 0..MR {
                let wj = *w.add(j);
                let (we, wo) = (sxtb16(wj), sxtb16_ror8(wj));
                for p in 0..NR {
                    a[p][j] = smlad(*x.add(2 * p), we, a[p][j]);
                    a[p][j] = smlad(*x.add(2 * p + 1), wo, a[p][j]);
                }
            }
            x = x.add(2 * NR);
            w = w.add(MR);
        }
        *acc = a;
    }
}

/// 2 channels x 2 pixels; `acc` is [[a00, a01], [a10, a11]] (pixel-major), `chunks >= 1`.
/// r6 and r7 (which Rust may not name as operands) are saved and restored around the loop.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
unsafe fn dot_2x2(x: *const u32, w: *const u32, chunks: usize, acc: *mut i32) {
    let (mut a00, mut a01, mut a10, mut a11) = (*acc, *acc.add(1), *acc.add(2), *acc.add(3));
    core::arch::asm!(
        "push {{r6, r7}}",
        "2:",
        "ldm r0!, {{r9, r10, r11, r12}}",
        "ldm r1!, {{r6, lr}}",
        "sxtb16 r7, r6",
        "sxtb16 r6, r6, ror #8",
        "smlad r3, r9, r7, r3",
        "smlad r3, r10, r6, r3",
        "smlad r5, r11, r7, r5",
        "smlad r5, r12, r6, r5",
        "sxtb16 r7, lr",
        "sxtb16 lr, lr, ror #8",
        "smlad r4, r9, r7, r4",
        "smlad r4, r10, lr, r4",
        "smlad r8, r11, r7, r8",
        "smlad r8, r12, lr, r8",
        "cmp r0, r2",
        "bne 2b",
        "pop {{r6, r7}}",
        inout("r0") x => _,
        inout("r1") w => _,
        in("r2") x.add(chunks * 4),
        inout("r3") a00,
        inout("r4") a01,
        inout("r5") a10,
        inout("r8") a11,
        out("r9") _, out("r10") _, out("r11") _, out("r12") _, out("lr") _,
        options(readonly),
    );
    *acc = a00;
    *acc.add(1) = a01;
    *acc.add(2) = a10;
    *acc.add(3) = a11;
}

/// 4 channels x 1 pixel; `acc` is [a0, a1, a2, a3], `chunks >= 1`.
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
#[inline(always)]
unsafe fn dot_4x1(x: *const u32, w: *const u32, chunks: usize, acc: *mut i32) {
    let (mut a0, mut a1, mut a2, mut a3) = (*acc, *acc.add(1), *acc.add(2), *acc.add(3));
    core::arch::asm!(
        "push {{r6, r7}}",
        "2:",
        "ldm r0!, {{r9, r10}}",
        "ldm r1!, {{r6, r11, r12, lr}}",
        "sxtb16 r7, r6",
        "sxtb16 r6, r6, ror #8",
        "smlad r3, r9, r7, r3",
        "smlad r3, r10, r6, r3",
        "sxtb16 r7, r11",
        "sxtb16 r11, r11, ror #8",
        "smlad r4, r9, r7, r4",
        "smlad r4, r10, r11, r4",
        "sxtb16 r7, r12",
        "sxtb16 r12, r12, ror #8",
        "smlad r5, r9, r7, r5",
        "smlad r5, r10, r12, r5",
        "sxtb16 r7, lr",
        "sxtb16 lr, lr, ror #8",
        "smlad r8, r9, r7, r8",
        "smlad r8, r10, lr, r8",
        "cmp r0, r2",
        "bne 2b",
        "pop {{r6, r7}}",
        inout("r0") x => _,
        inout("r1") w => _,
        in("r2") x.add(chunks * 2),
        inout("r3") a0,
        inout("r4") a1,
        inout("r5") a2,
        inout("r8") a3,
        out("r9") _, out("r10") _, out("r11") _, out("r12") _, out("lr") _,
        options(readonly),
    );
    *acc = a0;
    *acc.add(1) = a1;
    *acc.add(2) = a2;
    *acc.add(3) = a3;
}

/// Depthwise weights: per tap of a four-channel group, the int16 pairs (w0, w2) and
/// (w1, w3), widened at build time, so a tap is one input load, two SXTB16 and four
/// SMLAxy.
impl super::DwMicro for Dsp {
    const WORDS_PER_TAP: usize = 2;

    #[inline(always)]
    unsafe fn tap(x: *const i8, w: *const u32, acc: &mut [i32; 4]) {
        #[cfg(all(target_arch = "arm", target_feature = "dsp"))]
        {
            // One block, so the compiler keeps the tap's order (the instructions as
            // separate pure functions get regrouped by accumulator, which spills the
            // inputs of every tap).
            let [mut a0, mut a1, mut a2, mut a3] = *acc;
            core::arch::asm!(
                "ldr {x}, [{p}]",
                "ldrd {w0}, {w1}, [{w}]",
                "sxtb16 {xe}, {x}",
                "sxtb16 {x}, {x}, ror #8",
                "smlabb {a0}, {xe}, {w0}, {a0}",
                "smlabb {a1}, {x}, {w1}, {a1}",
                "smlatt {a2}, {xe}, {w0}, {a2}",
                "smlatt {a3}, {x}, {w1}, {a3}",
                p = in(reg) x,
                w = in(reg) w,
                x = out(reg) _,
                xe = out(reg) _,
                w0 = out(reg) _,
                w1 = out(reg) _,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                a2 = inout(reg) a2,
                a3 = inout(reg) a3,
                options(readonly, nostack),
            );
            *acc = [a0, a1, a2, a3];
        }
        #[cfg(not(all(target_arch = "arm", target_feature = "dsp")))]
        {
            use crate::simd::dsp::{smlabb, smlatt};
            let v = x.cast::<u32>().read_unaligned();
            let (xe, xo) = (sxtb16(v), sxtb16_ror8(v));
            let (we, wo) = (*w, *w.add(1));
            acc[0] = smlabb(xe, we, acc[0]);
            acc[1] = smlabb(xo, wo, acc[1]);
            acc[2] = smlatt(xe, we, acc[2]);
            acc[3] = smlatt(xo, wo, acc[3]);
        }
    }
}
