//! The first firmware: a roll call of every core.
//!
//! Each core proves it runs code by computing a small checksum that depends on its
//! index, prints one line under a spin lock, and publishes the checksum. Core 0 waits
//! for every core (bounded), prints a summary and exits: status 0 if all reported with
//! the right checksum, 1 otherwise. The host checks the lines and the exit status.

use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::board::{Board, SerialWriter, MAX_CORES};

static REPORTS: [AtomicU32; MAX_CORES] = [const { AtomicU32::new(0) }; MAX_CORES];

/// How long core 0 waits for the others, in seconds of the board's counter. Bounded so
/// that a core that never starts gives a failure, not a hang.
const WAIT_SECONDS: u32 = 2;

/// A value only a core that executed this code for `core` can produce (never zero).
pub fn checksum(core: usize) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for i in 0..(1000 + 100 * core as u32) {
        h = (h ^ i).wrapping_mul(0x0100_0193);
    }
    h | 1
}

/// `f` under the board's serial lock (`Board::lock_serial`: thumbv6m has no compare-and-swap).
fn with_serial<B: Board, R>(f: impl FnOnce() -> R) -> R {
    let mut f = Some(f);
    let mut r = None;
    B::lock_serial(&mut || r = f.take().map(|f| f()));
    r.expect("lock_serial runs its closure")
}

/// Entry for every core. Core 0 also starts the others and ends the run.
pub fn run<B: Board>(core: usize) -> ! {
    if core == 0 {
        with_serial::<B, _>(|| {
            let _ = writeln!(SerialWriter::<B>::new(), "arielml hello: board {} with {} cores", B::NAME, B::CORES);
        });
        B::start_other_cores(run::<B>);
    }
    let sum = checksum(core);
    with_serial::<B, _>(|| {
        let _ = writeln!(SerialWriter::<B>::new(), "core {} of {} reporting, checksum {:08x}", core, B::CORES, sum);
    });
    REPORTS[core].store(sum, Ordering::Release);
    if core != 0 {
        loop {
            core::hint::spin_loop();
        }
    }
    B::exit(gather::<B>())
}

/// Core 0: wait for every core's report; print the verdict; return the exit status.
fn gather<B: Board>() -> i32 {
    let start = B::counter();
    while B::counter().wrapping_sub(start) < WAIT_SECONDS * B::COUNTER_HZ
        && (0..B::CORES).any(|c| REPORTS[c].load(Ordering::Acquire) == 0)
    {
        core::hint::spin_loop();
    }
    let mut out = SerialWriter::<B>::new();
    let mut ok = true;
    for c in 0..B::CORES {
        let got = REPORTS[c].load(Ordering::Acquire);
        if got != checksum(c) {
            ok = false;
            let _ = with_serial::<B, _>(|| writeln!(out, "core {} did not report (got {:08x})", c, got));
        }
    }
    if ok {
        let _ = with_serial::<B, _>(|| writeln!(out, "all {} cores reported", B::CORES));
        0
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::checksum;

    #[test]
    fn checksums_differ_per_core_and_are_nonzero() {
        let sums: [u32; 8] = core::array::from_fn(checksum);
        for (i, a) in sums.iter().enumerate() {
            assert_ne!(*a, 0);
            for b in &sums[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
