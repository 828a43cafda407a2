//! The per-core executor: each core runs its own static task table, waiting only for
//! the specific tasks whose outputs it reads.
//!
//! Synchronisation is one word per task: `done[t]` holds the number of the last
//! inference ("epoch") in which task t finished. A task of epoch e may start when every
//! dependency's word equals e, so nothing is reset between inferences and no barrier
//! separates operators. Core 0 starts an epoch and returns when every core has
//! finished its table for it; the other cores loop in `worker`.
//!
//! Ordering: a task's outputs are written before its `done` word is stored with Release;
//! a consumer loads the word with Acquire before reading them. That is the only
//! happens-before edge the schedule needs, because the memory planner never lets buffers
//! of tasks that may run at the same time overlap.
//!
//! For the fault reports (`fault`), each core also stores which task it runs and which it
//! waits for (`SyncWords::running` / `waiting`: one Relaxed store each), and a wait that
//! lasts `fault::STUCK_SECONDS` prints one `stuck:` line naming both sides, then goes on.
//!
//! Every word the cores share (`SyncWords`, `done`, `ticks`) and the arena belong to
//! the generated crate, not to this one. On boards whose cores run separate images
//! (nRF5340 application + network core, STM32H745 M7 + M4), the generated crate puts them
//! in one `#[repr(C)]` static in the `.arielml_shared` section, which every image's linker
//! script places at the same address of a RAM all cores reach; image 0 zeroes it and then
//! publishes `SyncWords::ready` before the other images may touch it (`publish`, `wait_ready`).

use core::sync::atomic::{AtomicU32, Ordering};

use crate::board::{Board, MAX_CORES};
use crate::fault;

/// One unit of work: a tile of an operator. `deps` are indices of tasks it reads from.
pub struct Task {
    pub run: fn(),
    pub deps: &'static [u16],
}

/// A static schedule, emitted by the code generator.
pub struct Schedule {
    pub tasks: &'static [Task],
    /// For each core, its tasks in execution order.
    pub cores: &'static [&'static [u16]],
    /// One completion word per task (see the module docs).
    pub done: &'static [AtomicU32],
    /// Counter ticks each task took in the last inference (for `bench`).
    pub ticks: &'static [AtomicU32],
    /// The cores' shared control words.
    pub sync: &'static SyncWords,
}

/// The `run` of a task another image executes: that image's core runs it, never this one.
pub fn elsewhere() {
    panic!("task of another image")
}

/// Value of `SyncWords::ready` once image 0 has initialised the shared words (an unlikely
/// power-on pattern: "AML1").
pub const READY: u32 = 0x414d_4c31;

/// Control words shared by all cores.
#[repr(C)]
pub struct SyncWords {
    /// `READY` once core 0 has initialised the shared memory (multi-image boards).
    pub ready: AtomicU32,
    /// The current inference number; cores 1.. start their table when it changes.
    pub epoch: AtomicU32,
    /// Per core: the last epoch whose table it finished.
    pub finished: [AtomicU32; MAX_CORES],
    /// Per core: times it found a dependency not yet done in the last inference.
    pub waits: [AtomicU32; MAX_CORES],
    /// Per core: 1 + the task it is running, 0 when none (read by the fault reports).
    pub running: [AtomicU32; MAX_CORES],
    /// Per core: 1 + the task it is waiting for, 0 when none.
    pub waiting: [AtomicU32; MAX_CORES],
}

impl SyncWords {
    pub const fn new() -> Self {
        SyncWords {
            ready: AtomicU32::new(0),
            epoch: AtomicU32::new(0),
            finished: [const { AtomicU32::new(0) }; MAX_CORES],
            waits: [const { AtomicU32::new(0) }; MAX_CORES],
            running: [const { AtomicU32::new(0) }; MAX_CORES],
            waiting: [const { AtomicU32::new(0) }; MAX_CORES],
        }
    }
}

impl Default for SyncWords {
    fn default() -> Self {
        Self::new()
    }
}

/// Core 0, before any other core may run: zero the `bytes` bytes at `shared` (the
/// generated crate's shared block, which a multi-image linker script leaves uninitialised)
/// and publish `READY` in `sync`, which must lie inside it.
///
/// # Safety
/// `shared..shared + bytes` must be one static made only of atomics and `UnsafeCell`s
/// that no other core accesses until it has seen `READY`.
pub unsafe fn publish<B: Board>(shared: *const u8, bytes: usize, sync: &SyncWords) {
    // SAFETY: forwarded contract: the block is interior-mutable and not yet shared.
    unsafe { core::ptr::write_bytes(shared as *mut u8, 0, bytes) };
    sync.ready.store(READY, Ordering::Release);
    B::signal();
}

/// Cores of images other than core 0's: wait until core 0 has published the shared block.
pub fn wait_ready<B: Board>(sync: &SyncWords) {
    while sync.ready.load(Ordering::Acquire) != READY {
        B::wait_for_signal();
    }
}

/// What a core waits for: a task's `done` word, or another core's `finished` word.
#[derive(Clone, Copy)]
enum Awaited {
    Task(u16),
    Core(usize),
}

/// Wait until `word` holds `epoch`; after `fault::stuck_ticks` report, once, that `core`
/// is stuck on `what` (the task's core is looked up only then: the wait itself costs a
/// counter read per wake-up).
fn wait_for<B: Board>(s: &Schedule, word: &AtomicU32, epoch: u32, core: usize, what: Awaited) {
    let start = B::counter();
    let limit = fault::stuck_ticks::<B>();
    let mut told = false;
    while word.load(Ordering::Acquire) != epoch {
        let waited = B::counter().wrapping_sub(start);
        if !told && waited >= limit {
            told = true;
            match what {
                Awaited::Task(d) => {
                    let owner = s.cores.iter().position(|tbl| tbl.contains(&d)).unwrap_or(0);
                    fault::stuck::<B>(core, Some(u32::from(d)), owner)
                }
                Awaited::Core(c) => fault::stuck::<B>(core, None, c),
            }
        }
        B::wait_for_signal_or_timeout(if told { u32::MAX } else { limit - waited });
    }
}

fn run_table<B: Board>(s: &Schedule, core: usize, epoch: u32) {
    let mut waits = 0;
    let (running, waiting) = (&s.sync.running[core], &s.sync.waiting[core]);
    for &t in s.cores[core] {
        let task = &s.tasks[t as usize];
        for &d in task.deps {
            if s.done[d as usize].load(Ordering::Acquire) != epoch {
                waits += 1;
                waiting.store(u32::from(d) + 1, Ordering::Relaxed);
                wait_for::<B>(s, &s.done[d as usize], epoch, core, Awaited::Task(d));
                waiting.store(0, Ordering::Relaxed);
            }
        }
        running.store(u32::from(t) + 1, Ordering::Relaxed);
        let start = B::counter();
        (task.run)();
        s.ticks[t as usize].store(B::counter().wrapping_sub(start), Ordering::Relaxed);
        running.store(0, Ordering::Relaxed);
        s.done[t as usize].store(epoch, Ordering::Release);
        B::signal();
    }
    s.sync.waits[core].store(waits, Ordering::Relaxed);
    s.sync.finished[core].store(epoch, Ordering::Release);
    B::signal();
}

/// Core 0: run one inference on every core; returns when all tables are finished.
/// The caller has written the inputs; outputs are ready on return.
pub fn infer<B: Board>(s: &Schedule) {
    fault::ACTIVE.store(s.sync as *const SyncWords as *mut SyncWords, Ordering::Relaxed);
    let epoch = s.sync.epoch.load(Ordering::Relaxed).wrapping_add(1).max(1);
    s.sync.epoch.store(epoch, Ordering::Release);
    B::signal();
    run_table::<B>(s, 0, epoch);
    for c in 1..s.cores.len() {
        wait_for::<B>(s, &s.sync.finished[c], epoch, 0, Awaited::Core(c));
    }
}

/// Cores 1..: run this core's table once per epoch, forever. A core the schedule does
/// not use (a build for fewer cores than the board has) just sleeps.
pub fn worker<B: Board>(s: &Schedule, core: usize) -> ! {
    if core >= s.cores.len() {
        loop {
            B::wait_for_signal();
        }
    }
    fault::ACTIVE.store(s.sync as *const SyncWords as *mut SyncWords, Ordering::Relaxed);
    let mut seen = 0;
    loop {
        let epoch = s.sync.epoch.load(Ordering::Acquire);
        if epoch == seen {
            B::wait_for_signal();
            continue;
        }
        seen = epoch;
        run_table::<B>(s, core, epoch);
    }
}

/// Dependency waits each core met in the last inference.
pub fn waits(s: &Schedule, core: usize) -> u32 {
    s.sync.waits[core].load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests;
