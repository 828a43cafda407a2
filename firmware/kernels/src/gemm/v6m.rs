//! Armv6-M (Cortex-M0+, the RP2040): no multiply-accumulate, no 64-bit product, 8 low
//! registers for almost everything, and LDRSB only with a register offset.
//!
//! Weights: `KC == 0`, one chunk of the whole padded K: a block is its `MR` channels'
//! rows of `kp` weights, one after the other. Then one index register addresses the
//! input row and every channel's row alike (`LDRSB rt, [row, k]`), so a weight or an input
//! value costs one load and a product three instructions (LDRSB, MULS, ADD into a high
//! register): the 4 x 1 loop on the target does 32 multiply-accumulates in 113
//! instructions. Elsewhere (host tests) the same arithmetic runs in Rust.
//! Depthwise layers use the portable family's kernels and layout.
use super::{portable::Portable, DwMicro, Micro};

pub struct V6m;

impl<const MR: usize, const NR: usize> Micro<MR, NR> for V6m {
    const KC: usize = 0;
    const PREPARED_BYTES_PER_K: usize = 0;

    #[inline(always)]
    unsafe fn prepare(_rows: &[*const i8; NR], _kp: usize, _prepared: *mut u32) {}

    #[inline(always)]
    unsafe fn dot(rows: &[*const i8; NR], _prepared: *const u32, w: *const u32, kp: usize, acc: &mut [[i32; MR]; NR]) {
        let w = w.cast::<i8>();
        #[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
        {
            if MR == 4 && NR == 1 {
                return dot_4x1(rows[0], w, kp, acc.as_mut_ptr().cast::<i32>());
            }
        }
        for p in 0..NR {
            for j in 0..MR {
                let (x, wj) = (rows[p], w.add(j * kp));
                let mut a = acc[p][j];
                for k in 0..kp {
                    a = a.wrapping_add(*x.add(k) as i32 * *wj.add(k) as i32);
                }
                acc[p][j] = a;
            }
        }
    }
}

/// 4 channels x 1 pixel over rows of `kp` (a multiple of 4, >= 4) values. The index runs
/// from -kp up to 0 against pointers past the rows' ends, so its increment ends the loop.
/// Thumb-1 code may name only low registers as operands, and r6/r7 not at all: the
/// accumulators live in r8-r11 (clobbers), loaded from and stored to `acc` inside the
/// block, and r6/r7 are saved and restored there.
#[cfg(all(target_arch = "arm", not(target_has_atomic = "32")))]
#[inline(always)]
unsafe fn dot_4x1(x: *const i8, w: *const i8, kp: usize, acc: *mut i32) {
    // The accumulators, then the end of the input row.
    let mut io = [*acc, *acc.add(1), *acc.add(2), *acc.add(3), x.add(kp) as i32];
    macro_rules! step {
        () => {
            concat!(
                "ldrsb r6, [r0, r1]\n",
                "ldrsb r7, [r2, r1]\n",
                "muls r7, r6, r7\n",
                "add r8, r7\n",
                "ldrsb r7, [r3, r1]\n",
                "muls r7, r6, r7\n",
                "add r9, r7\n",
                "ldrsb r7, [r4, r1]\n",
                "muls r7, r6, r7\n",
                "add r10, r7\n",
                "ldrsb r7, [r5, r1]\n",
                "muls r7, r6, r7\n",
                "add r11, r7\n",
                "adds r1, #1\n",
            )
        };
    }
    core::arch::asm!(
        "push {{r0, r6, r7}}",
        "ldr r6, [r0, #0]",
        "mov r8, r6",
        "ldr r6, [r0, #4]",
        "mov r9, r6",
        "ldr r6, [r0, #8]",
        "mov r10, r6",
        "ldr r6, [r0, #12]",
        "mov r11, r6",
        "ldr r0, [r0, #16]",
        // Eight k per pass; when kp is 4 more than a multiple of 8 (bit 2 of -kp), the
        // first pass starts half-way.
        "lsls r6, r1, #29",
        "bmi 3f",
        "2:",
        step!(),
        step!(),
        step!(),
        step!(),
        "3:",
        step!(),
        step!(),
        step!(),
        step!(),
        "bne 2b",
        "pop {{r0}}",
        "mov r6, r8",
        "str r6, [r0, #0]",
        "mov r6, r9",
        "str r6, [r0, #4]",
        "mov r6, r10",
        "str r6, [r0, #8]",
        "mov r6, r11",
        "str r6, [r0, #12]",
        "pop {{r6, r7}}",
        inout("r0") io.as_mut_ptr() => _,
        inout("r1") -(kp as isize) => _,
        inout("r2") w.add(kp) => _,
        inout("r3") w.add(2 * kp) => _,
        inout("r4") w.add(3 * kp) => _,
        inout("r5") w.add(4 * kp) => _,
        out("r8") _, out("r9") _, out("r10") _, out("r11") _,
    );
    *acc = io[0];
    *acc.add(1) = io[1];
    *acc.add(2) = io[2];
    *acc.add(3) = io[3];
}

impl DwMicro for V6m {
    const WORDS_PER_TAP: usize = <Portable as DwMicro>::WORDS_PER_TAP;

    #[inline(always)]
    unsafe fn tap(x: *const i8, w: *const u32, acc: &mut [i32; 4]) {
        Portable::tap(x, w, acc)
    }
}
