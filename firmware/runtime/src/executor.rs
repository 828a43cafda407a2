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

use core::sync::atomic::{AtomicU32, Ordering};

use crate::board::{Board, MAX_CORES};

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
}

static EPOCH: AtomicU32 = AtomicU32::new(0);
static FINISHED: [AtomicU32; MAX_CORES] = [const { AtomicU32::new(0) }; MAX_CORES];
/// Times a core found a dependency not yet done (a measure of synchronisation cost).
static WAITS: [AtomicU32; MAX_CORES] = [const { AtomicU32::new(0) }; MAX_CORES];

fn run_table<B: Board>(s: &Schedule, core: usize, epoch: u32) {
    let mut waits = 0;
    for &t in s.cores[core] {
        let task = &s.tasks[t as usize];
        for &d in task.deps {
            if s.done[d as usize].load(Ordering::Acquire) != epoch {
                waits += 1;
                while s.done[d as usize].load(Ordering::Acquire) != epoch {
                    B::wait_for_signal();
                }
            }
        }
        let start = B::counter();
        (task.run)();
        s.ticks[t as usize].store(B::counter().wrapping_sub(start), Ordering::Relaxed);
        s.done[t as usize].store(epoch, Ordering::Release);
        B::signal();
    }
    WAITS[core].store(waits, Ordering::Relaxed);
    FINISHED[core].store(epoch, Ordering::Release);
    B::signal();
}

/// Core 0: run one inference on every core; returns when all tables are finished.
/// The caller has written the inputs; outputs are ready on return.
pub fn infer<B: Board>(s: &Schedule) {
    let epoch = EPOCH.load(Ordering::Relaxed).wrapping_add(1).max(1);
    EPOCH.store(epoch, Ordering::Release);
    B::signal();
    run_table::<B>(s, 0, epoch);
    for c in 1..s.cores.len() {
        while FINISHED[c].load(Ordering::Acquire) != epoch {
            B::wait_for_signal();
        }
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
    let mut seen = 0;
    loop {
        let epoch = EPOCH.load(Ordering::Acquire);
        if epoch == seen {
            B::wait_for_signal();
            continue;
        }
        seen = epoch;
        run_table::<B>(s, core, epoch);
    }
}

/// Dependency waits each core met in the last inference.
pub fn waits(core: usize) -> u32 {
    WAITS[core].load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests;
