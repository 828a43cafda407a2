//! Plain Rust for cores without packed multiplies (RV32IMC/IMAC, Cortex-M0+, hosts).
//!
//! Weights: KC = 1, so each block is, for every k, the MR channels' weights side by
//! side: one pass over k loads each input byte once per pixel and each weight once per
//! NR pixels. Rows are read where they are (no preparation).
use super::Micro;

pub struct Portable;

impl<const MR: usize, const NR: usize> Micro<MR, NR> for Portable {
    const KC: usize = 1;
    const PREPARED_BYTES_PER_K: usize = 0;

    #[inline(always)]
    unsafe fn prepare(_rows: &[*const i8; NR], _kp: usize, _prepared: *mut u32) {}

    #[inline(always)]
    unsafe fn dot(rows: &[*const i8; NR], _prepared: *const u32, w: *const u32, kp: usize, acc: &mut [[i32; MR]; NR]) {
        #[cfg(target_arch = "riscv32")]
        {
            if MR == 4 && NR == 2 {
                return rv32::dot_4x2(rows[0], rows[1], w.cast::<i8>(), kp, acc.as_mut_ptr().cast::<i32>());
            }
            if MR == 8 && NR == 1 {
                return rv32::dot_8x1(rows[0], w.cast::<i8>(), kp, acc.as_mut_ptr().cast::<i32>());
            }
            if MR == 4 && NR == 1 {
                return rv32::dot_4x1(rows[0], w.cast::<i8>(), kp, acc.as_mut_ptr().cast::<i32>());
            }
        }
        let mut wk = w.cast::<i8>();
        let mut x = *rows;
        let mut a = *acc;
        for _ in 0..kp {
            let xv: [i32; NR] = core::array::from_fn(|p| *x[p] as i32);
            for j in 0..MR {
                let wv = *wk.add(j) as i32;
                for p in 0..NR {
                    a[p][j] = a[p][j].wrapping_add(xv[p] * wv);
                }
            }
            for xp in x.iter_mut() {
                *xp = xp.add(1);
            }
            wk = wk.add(MR);
        }
        *acc = a;
    }
}

/// The RV32IM loops of the blockings the compiler uses: four k per pass (kp is a
/// multiple of 4), every accumulator, input and weight of a k in a register, one MUL and
/// one ADD per product. (The same loop in Rust is scheduled all products first, which
/// spills half the accumulators.)
#[cfg(target_arch = "riscv32")]
mod rv32 {
    macro_rules! k4x2 {
        ($i:literal) => {
            concat!(
                "lb {xa}, ", $i, "({p0})\n",
                "lb {xb}, ", $i, "({p1})\n",
                "lb {w0}, 4*", $i, "+0({w})\n",
                "lb {w1}, 4*", $i, "+1({w})\n",
                "lb {w2}, 4*", $i, "+2({w})\n",
                "lb {w3}, 4*", $i, "+3({w})\n",
                "mul {t}, {xa}, {w0}\n", "add {a00}, {a00}, {t}\n",
                "mul {t}, {xa}, {w1}\n", "add {a01}, {a01}, {t}\n",
                "mul {t}, {xa}, {w2}\n", "add {a02}, {a02}, {t}\n",
                "mul {t}, {xa}, {w3}\n", "add {a03}, {a03}, {t}\n",
                "mul {t}, {xb}, {w0}\n", "add {a10}, {a10}, {t}\n",
                "mul {t}, {xb}, {w1}\n", "add {a11}, {a11}, {t}\n",
                "mul {t}, {xb}, {w2}\n", "add {a12}, {a12}, {t}\n",
                "mul {t}, {xb}, {w3}\n", "add {a13}, {a13}, {t}\n",
            )
        };
    }

    /// 4 channels x 2 pixels; `acc` pixel-major, `kp` a multiple of 4, >= 4.
    #[inline(always)]
    pub(super) unsafe fn dot_4x2(x0: *const i8, x1: *const i8, w: *const i8, kp: usize, acc: *mut i32) {
        let a = acc;
        let (mut a00, mut a01, mut a02, mut a03) = (*a, *a.add(1), *a.add(2), *a.add(3));
        let (mut a10, mut a11, mut a12, mut a13) = (*a.add(4), *a.add(5), *a.add(6), *a.add(7));
        core::arch::asm!(
            "2:",
            k4x2!("0"), k4x2!("1"), k4x2!("2"), k4x2!("3"),
            "addi {p0}, {p0}, 4",
            "addi {p1}, {p1}, 4",
            "addi {w}, {w}, 16",
            "bne {p0}, {end}, 2b",
            p0 = inout(reg) x0 => _,
            p1 = inout(reg) x1 => _,
            w = inout(reg) w => _,
            end = in(reg) x0.add(kp),
            xa = out(reg) _, xb = out(reg) _,
            w0 = out(reg) _, w1 = out(reg) _, w2 = out(reg) _, w3 = out(reg) _,
            t = out(reg) _,
            a00 = inout(reg) a00, a01 = inout(reg) a01, a02 = inout(reg) a02, a03 = inout(reg) a03,
            a10 = inout(reg) a10, a11 = inout(reg) a11, a12 = inout(reg) a12, a13 = inout(reg) a13,
            options(readonly, nostack),
        );
        for (i, v) in [a00, a01, a02, a03, a10, a11, a12, a13].into_iter().enumerate() {
            *a.add(i) = v;
        }
    }

    macro_rules! k4x1 {
        ($i:literal) => {
            concat!(
                "lb {xa}, ", $i, "({p0})\n",
                "lb {w0}, 4*", $i, "+0({w})\n",
                "lb {w1}, 4*", $i, "+1({w})\n",
                "lb {w2}, 4*", $i, "+2({w})\n",
                "lb {w3}, 4*", $i, "+3({w})\n",
                "mul {w0}, {xa}, {w0}\n", "add {a0}, {a0}, {w0}\n",
                "mul {w1}, {xa}, {w1}\n", "add {a1}, {a1}, {w1}\n",
                "mul {w2}, {xa}, {w2}\n", "add {a2}, {a2}, {w2}\n",
                "mul {w3}, {xa}, {w3}\n", "add {a3}, {a3}, {w3}\n",
            )
        };
    }

    macro_rules! k8x1 {
        ($i:literal) => {
            concat!(
                "lb {xa}, ", $i, "({p0})\n",
                "lb {w0}, 8*", $i, "+0({w})\n",
                "lb {w1}, 8*", $i, "+1({w})\n",
                "lb {w2}, 8*", $i, "+2({w})\n",
                "lb {w3}, 8*", $i, "+3({w})\n",
                "lb {w4}, 8*", $i, "+4({w})\n",
                "lb {w5}, 8*", $i, "+5({w})\n",
                "lb {w6}, 8*", $i, "+6({w})\n",
                "lb {w7}, 8*", $i, "+7({w})\n",
                "mul {w0}, {xa}, {w0}\n", "add {a0}, {a0}, {w0}\n",
                "mul {w1}, {xa}, {w1}\n", "add {a1}, {a1}, {w1}\n",
                "mul {w2}, {xa}, {w2}\n", "add {a2}, {a2}, {w2}\n",
                "mul {w3}, {xa}, {w3}\n", "add {a3}, {a3}, {w3}\n",
                "mul {w4}, {xa}, {w4}\n", "add {a4}, {a4}, {w4}\n",
                "mul {w5}, {xa}, {w5}\n", "add {a5}, {a5}, {w5}\n",
                "mul {w6}, {xa}, {w6}\n", "add {a6}, {a6}, {w6}\n",
                "mul {w7}, {xa}, {w7}\n", "add {a7}, {a7}, {w7}\n",
            )
        };
    }

    /// 8 channels x 1 pixel (fully connected layers: every weight is read once, so the
    /// input value is shared by as many channels as registers allow).
    #[inline(always)]
    pub(super) unsafe fn dot_8x1(x0: *const i8, w: *const i8, kp: usize, acc: *mut i32) {
        let a = acc;
        let mut v: [i32; 8] = core::array::from_fn(|i| *a.add(i));
        let [mut a0, mut a1, mut a2, mut a3, mut a4, mut a5, mut a6, mut a7] = v;
        core::arch::asm!(
            "2:",
            k8x1!("0"), k8x1!("1"), k8x1!("2"), k8x1!("3"),
            "addi {p0}, {p0}, 4",
            "addi {w}, {w}, 32",
            "bne {p0}, {end}, 2b",
            p0 = inout(reg) x0 => _,
            w = inout(reg) w => _,
            end = in(reg) x0.add(kp),
            xa = out(reg) _,
            w0 = out(reg) _, w1 = out(reg) _, w2 = out(reg) _, w3 = out(reg) _,
            w4 = out(reg) _, w5 = out(reg) _, w6 = out(reg) _, w7 = out(reg) _,
            a0 = inout(reg) a0, a1 = inout(reg) a1, a2 = inout(reg) a2, a3 = inout(reg) a3,
            a4 = inout(reg) a4, a5 = inout(reg) a5, a6 = inout(reg) a6, a7 = inout(reg) a7,
            options(readonly, nostack),
        );
        v = [a0, a1, a2, a3, a4, a5, a6, a7];
        for (i, x) in v.into_iter().enumerate() {
            *a.add(i) = x;
        }
    }

    /// 4 channels x 1 pixel; `kp` a multiple of 4, >= 4.
    #[inline(always)]
    pub(super) unsafe fn dot_4x1(x0: *const i8, w: *const i8, kp: usize, acc: *mut i32) {
        let a = acc;
        let (mut a0, mut a1, mut a2, mut a3) = (*a, *a.add(1), *a.add(2), *a.add(3));
        core::arch::asm!(
            "2:",
            k4x1!("0"), k4x1!("1"), k4x1!("2"), k4x1!("3"),
            "addi {p0}, {p0}, 4",
            "addi {w}, {w}, 16",
            "bne {p0}, {end}, 2b",
            p0 = inout(reg) x0 => _,
            w = inout(reg) w => _,
            end = in(reg) x0.add(kp),
            xa = out(reg) _,
            w0 = out(reg) _, w1 = out(reg) _, w2 = out(reg) _, w3 = out(reg) _,
            a0 = inout(reg) a0, a1 = inout(reg) a1, a2 = inout(reg) a2, a3 = inout(reg) a3,
            options(readonly, nostack),
        );
        *a = a0;
        *a.add(1) = a1;
        *a.add(2) = a2;
        *a.add(3) = a3;
    }
}

/// Depthwise weights: per tap of a four-channel group, the four int8 weights in one word.
impl super::DwMicro for Portable {
    const WORDS_PER_TAP: usize = 1;

    #[inline(always)]
    unsafe fn tap(x: *const i8, w: *const u32, acc: &mut [i32; 4]) {
        let wb = w.cast::<i8>();
        for c in 0..4 {
            acc[c] = acc[c].wrapping_add(*x.add(c) as i32 * *wb.add(c) as i32);
        }
    }
}
