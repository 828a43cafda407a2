//! The executor on host threads: every task runs once per inference, after its
//! dependencies, on the core the table gives it, across repeated inferences.
extern crate std;

use super::*;
use core::sync::atomic::AtomicUsize;
use std::sync::Mutex;
use std::vec::Vec;

struct HostBoard;
impl Board for HostBoard {
    const NAME: &'static str = "host-test";
    const CORES: usize = 3;
    const COUNTER_HZ: u32 = 1;
    fn core_id() -> usize {
        0
    }
    fn start_other_cores(_entry: fn(usize) -> !) {}
    fn serial_write(_bytes: &[u8]) {}
    fn serial_read() -> Option<u8> {
        None
    }
    fn counter() -> u32 {
        0
    }
    fn exit(code: i32) -> ! {
        panic!("exit {code}")
    }
    fn wait_for_signal() {
        std::thread::yield_now();
    }
}

static LOG: Mutex<Vec<usize>> = Mutex::new(Vec::new());
static RUNS: [AtomicUsize; 6] = [const { AtomicUsize::new(0) }; 6];

macro_rules! task_fn {
    ($name:ident, $i:expr) => {
        fn $name() {
            // Give other threads a chance to overtake if dependencies were ignored.
            std::thread::sleep(std::time::Duration::from_micros(200 * (6 - $i) as u64));
            RUNS[$i].fetch_add(1, Ordering::SeqCst);
            LOG.lock().unwrap().push($i);
        }
    };
}
task_fn!(t0, 0);
task_fn!(t1, 1);
task_fn!(t2, 2);
task_fn!(t3, 3);
task_fn!(t4, 4);
task_fn!(t5, 5);

// A diamond with a tail: 0 -> {1, 2, 3} -> 4 -> 5, spread over three cores.
static TASKS: [Task; 6] = [
    Task { run: t0, deps: &[] },
    Task { run: t1, deps: &[0] },
    Task { run: t2, deps: &[0] },
    Task { run: t3, deps: &[0] },
    Task { run: t4, deps: &[1, 2, 3] },
    Task { run: t5, deps: &[4] },
];
static CORE_TABLES: [&[u16]; 3] = [&[0, 3, 5], &[1, 4], &[2]];
static DONE: [AtomicU32; 6] = [const { AtomicU32::new(0) }; 6];
static TICKS: [AtomicU32; 6] = [const { AtomicU32::new(0) }; 6];
static SYNC: SyncWords = SyncWords::new();
static SCHEDULE: Schedule = Schedule { tasks: &TASKS, cores: &CORE_TABLES, done: &DONE, ticks: &TICKS, sync: &SYNC };

#[test]
fn tasks_run_after_their_dependencies_every_inference() {
    let _one = crate::TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    for c in 1..3 {
        std::thread::spawn(move || worker::<HostBoard>(&SCHEDULE, c));
    }
    for round in 1..=20 {
        LOG.lock().unwrap().clear();
        infer::<HostBoard>(&SCHEDULE);
        let log = LOG.lock().unwrap().clone();
        assert_eq!(log.len(), 6, "round {round}: {log:?}");
        let pos = |t: usize| log.iter().position(|&x| x == t).unwrap();
        for (t, task) in TASKS.iter().enumerate() {
            for &d in task.deps {
                assert!(pos(d as usize) < pos(t), "round {round}: task {t} ran before {d}: {log:?}");
            }
        }
        for r in &RUNS {
            assert_eq!(r.load(Ordering::SeqCst), round);
        }
    }
}
