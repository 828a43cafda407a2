//! The stuck-core report on host threads: a core whose dependency never comes says so
//! once, naming the task and its core, and carries on when the task finally runs.
extern crate std;

use super::*;
use crate::executor::{infer, worker, Schedule, Task};
use core::sync::atomic::AtomicU32;
use std::string::String;
use std::sync::Mutex;
use std::vec::Vec;

static OUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static CLOCK: AtomicU32 = AtomicU32::new(0);
std::thread_local!(static CORE: core::cell::Cell<usize> = const { core::cell::Cell::new(0) });

struct CaptureBoard;
impl Board for CaptureBoard {
    const NAME: &'static str = "capture";
    const CORES: usize = 2;
    /// One tick per counter read: a wait is stuck after `STUCK_SECONDS` reads.
    const COUNTER_HZ: u32 = 1;
    fn core_id() -> usize {
        CORE.with(|c| c.get())
    }
    fn start_other_cores(_entry: fn(usize) -> !) {}
    fn serial_write(bytes: &[u8]) {
        OUT.lock().unwrap().extend_from_slice(bytes);
    }
    fn serial_read() -> Option<u8> {
        None
    }
    fn counter() -> u32 {
        CLOCK.fetch_add(1, Ordering::SeqCst)
    }
    fn exit(code: i32) -> ! {
        panic!("exit {code}")
    }
    fn wait_for_signal() {
        std::thread::yield_now();
    }
}

fn t0() {}
fn t1() {}

// Core 0's task 1 reads core 1's task 0.
static TASKS: [Task; 2] = [Task { run: t0, deps: &[] }, Task { run: t1, deps: &[0] }];
static CORE_TABLES: [&[u16]; 2] = [&[1], &[0]];
static DONE: [AtomicU32; 2] = [const { AtomicU32::new(0) }; 2];
static TICKS: [AtomicU32; 2] = [const { AtomicU32::new(0) }; 2];
static SYNC: SyncWords = SyncWords::new();
static SCHEDULE: Schedule = Schedule { tasks: &TASKS, cores: &CORE_TABLES, done: &DONE, ticks: &TICKS, sync: &SYNC };

fn output() -> String {
    String::from_utf8(OUT.lock().unwrap().clone()).unwrap()
}

#[test]
fn a_core_waiting_too_long_reports_once_what_it_waits_for() {
    let _one = crate::TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let core0 = std::thread::spawn(|| infer::<CaptureBoard>(&SCHEDULE));
    while !output().contains("stuck") {
        std::thread::yield_now();
    }
    // Core 1 starts only now: core 0 gets its dependency and finishes the inference.
    std::thread::spawn(|| {
        CORE.with(|c| c.set(1));
        worker::<CaptureBoard>(&SCHEDULE, 1)
    });
    core0.join().unwrap();
    assert_eq!(output(), "\nstuck: core 0 waits for task 0 (core 1, outside any task)\n");
    assert_eq!(SYNC.running[0].load(Ordering::Relaxed), 0);
    assert_eq!(SYNC.waiting[0].load(Ordering::Relaxed), 0);

    // What a core runs is what the reports name.
    SYNC.running[1].store(1 + 9, Ordering::Relaxed);
    assert_eq!(running(1), Some(9));
    assert_eq!(std::format!("{}", Here { core: 1, task: running(1) }), "core 1 in task 9");
    assert_eq!(std::format!("{}", Here { core: 0, task: running(0) }), "core 0 outside any task");
    OUT.lock().unwrap().clear();
    stuck::<CaptureBoard>(0, None, 1);
    assert_eq!(output(), "\nstuck: core 0 waits for core 1 to finish (running task 9)\n");
    SYNC.running[1].store(0, Ordering::Relaxed);
}
