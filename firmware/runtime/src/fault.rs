//! One-line reports of a run that went wrong, naming the core and the task it was on.
//!
//! The executor records, per core, the task it is running and the task it is waiting
//! for (`SyncWords::running` / `waiting`, task number + 1, 0 = none), and remembers in
//! `ACTIVE` where the schedule's words are. The boards' panic and fault handlers call
//! `panic` / `fault` here, which read them back and print one line on the serial link:
//!
//! ```text
//! panic on core 0 in task 5: index out of bounds ... (src/model.rs:12)
//! fault: HardFault on core 1 in task 17 (pc 0x10001234)
//! stuck: core 1 waits for task 12 (core 0, running task 9)
//! ```
//!
//! then end the run with `PANIC_STATUS` or `FAULT_STATUS` (a stuck core prints once
//! and keeps waiting: the host decides). The host (python/arielml/target/protocol/link.py)
//! reads these lines between frames. No lock is taken: a core that faults while holding
//! the serial lock must still be heard.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::board::{Board, SerialWriter};
use crate::executor::SyncWords;

/// Exit status of a run that panicked (as Rust's own test harness uses).
pub const PANIC_STATUS: i32 = 101;
/// Exit status of a run that took a CPU fault (HardFault, illegal instruction, ...).
pub const FAULT_STATUS: i32 = 102;

/// The control words of the schedule this image runs (set by `executor::infer` and
/// `worker`); null before any core ran a task.
pub(crate) static ACTIVE: AtomicPtr<SyncWords> = AtomicPtr::new(core::ptr::null_mut());

/// Where a core is: "core 1 in task 17", "core 0 outside any task".
#[derive(Clone, Copy)]
pub struct Here {
    pub core: usize,
    pub task: Option<u32>,
}

impl Here {
    pub fn of<B: Board>() -> Here {
        let core = B::core_id();
        Here { core, task: running(core) }
    }
}

impl fmt::Display for Here {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.task {
            Some(t) => write!(f, "core {} in task {}", self.core, t),
            None => write!(f, "core {} outside any task", self.core),
        }
    }
}

fn sync() -> Option<&'static SyncWords> {
    // SAFETY: only ever set to a `&'static SyncWords`.
    unsafe { ACTIVE.load(Ordering::Relaxed).as_ref() }
}

/// The task `core` is running, if any (as far as this image can see).
pub fn running(core: usize) -> Option<u32> {
    let w = sync()?.running.get(core)?.load(Ordering::Relaxed);
    w.checked_sub(1)
}

/// Report a panic in one line and end the run with `PANIC_STATUS`.
pub fn panic<B: Board>(info: &core::panic::PanicInfo) -> ! {
    let mut w = SerialWriter::<B>::new();
    let _ = write!(w, "\npanic on {}: {}", Here::of::<B>(), info.message());
    if let Some(at) = info.location() {
        let _ = write!(w, " ({}:{})", at.file(), at.line());
    }
    let _ = w.write_str("\n");
    B::exit(PANIC_STATUS)
}

/// Report a CPU fault (`what`: the exception's name) at `pc` in one line and end the run
/// with `FAULT_STATUS`.
pub fn fault<B: Board>(what: &str, pc: usize) -> ! {
    let _ = writeln!(SerialWriter::<B>::new(), "\nfault: {} on {} (pc {:#010x})", what, Here::of::<B>(), pc);
    B::exit(FAULT_STATUS)
}

/// A core has waited `STUCK_SECONDS` for task `dep` (None: for core `owner` to finish
/// its table); printed once per wait, under the serial lock.
pub(crate) fn stuck<B: Board>(core: usize, dep: Option<u32>, owner: usize) {
    let on = running(owner);
    B::lock_serial(&mut || {
        let mut w = SerialWriter::<B>::new();
        let _ = match dep {
            Some(d) => write!(w, "\nstuck: core {} waits for task {} (core {}", core, d, owner),
            None => write!(w, "\nstuck: core {} waits for core {} to finish", core, owner),
        };
        let _ = match (dep, on) {
            (Some(_), Some(t)) => writeln!(w, ", running task {})", t),
            (Some(_), None) => writeln!(w, ", outside any task)"),
            (None, Some(t)) => writeln!(w, " (running task {})", t),
            (None, None) => writeln!(w, " (outside any task)"),
        };
    });
}

/// Seconds a core waits on one dependency before it reports itself `stuck`.
pub const STUCK_SECONDS: u32 = 10;

pub(crate) fn stuck_ticks<B: Board>() -> u32 {
    B::COUNTER_HZ.saturating_mul(STUCK_SECONDS)
}

/// Test-only fault injection (see python/arielml/codegen/model_rs.py, `INJECT_ENV`): the
/// generated code of one chosen task calls this first. Never emitted otherwise.
#[doc(hidden)]
#[track_caller]
pub fn inject(kind: u8) {
    match kind {
        b'p' => panic!("injected panic"),
        b'h' => loop {
            core::hint::spin_loop();
        },
        _ => {
            // An undefined instruction: HardFault (Arm), illegal instruction (RISC-V).
            #[cfg(target_arch = "arm")]
            // SAFETY: traps; the fault handler ends the run.
            unsafe {
                core::arch::asm!("udf #0")
            };
            #[cfg(any(target_arch = "riscv32", target_arch = "riscv64"))]
            // SAFETY: as above.
            unsafe {
                core::arch::asm!("unimp")
            };
            panic!("injected fault on a host build");
        }
    }
}

#[cfg(test)]
mod tests;
