//! Timer check: hart 0 runs a spin loop alone and times it with the board counter, then
//! releases the other harts and every hart runs the same loop at once, timed again until
//! the last one is done. A clock of wall time (Spike) reads about the same twice (the
//! harts ran in parallel); a clock of all harts' instructions (QEMU -icount) reads the
//! second time CORES times longer. Prints one line and exits with status 0:
//! `spin: 1 hart T1 ticks, N harts TN ticks`.
#![no_std]
#![no_main]

use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};

use arielml_runtime::board::{Board as _, SerialWriter};
#[cfg(feature = "riscv-virt")]
use arielml_board_riscv_virt::{self as board, RiscvVirt as Board};
#[cfg(feature = "spike")]
use arielml_board_spike::{self as board, Spike as Board};

const ITERATIONS: u32 = 1_000_000;
static DONE: AtomicU32 = AtomicU32::new(0);

fn spin() {
    let mut x = 0u32;
    for i in 0..ITERATIONS {
        x = core::hint::black_box(x.wrapping_add(i));
    }
    core::hint::black_box(x);
}

fn app(core: usize) -> ! {
    if core != 0 {
        spin();
        DONE.fetch_add(1, Ordering::AcqRel);
        Board::signal();
        loop {
            Board::wait_for_signal();
        }
    }
    let t0 = Board::counter();
    spin();
    let one = Board::counter().wrapping_sub(t0);
    let t0 = Board::counter();
    Board::start_other_cores(app);
    spin();
    while DONE.load(Ordering::Acquire) != (Board::CORES - 1) as u32 {
        Board::wait_for_signal();
    }
    let all = Board::counter().wrapping_sub(t0);
    let _ = writeln!(SerialWriter::<Board>::new(), "spin: 1 hart {} ticks, {} harts {} ticks", one, Board::CORES, all);
    Board::exit(0)
}

board::entry!(app);
