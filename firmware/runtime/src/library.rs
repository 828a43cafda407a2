//! The model as a library inside the user's own firmware (`arielml build --emit lib`).
//!
//! A generated library crate wraps its model in a typed API over this module: the
//! application calls `run` (through the crate's `Model`) on one core, and runs the crate's
//! `worker(core)` on each other core, which it starts with its own HAL's launch call. From
//! the application this needs only a `Platform`: how a core waits for another and wakes
//! the others (the default spins), and optionally a counter. No serial link, timer, panic
//! handler, entry point or interrupt of arielml's is involved; the arena and the executor's
//! words are statics of the generated crate.

use core::marker::PhantomData;

use crate::board::{Board, MAX_CORES};
use crate::executor;
use crate::serve::Model;

/// What the library needs from the application's platform. Every method has a default:
/// `Spin` (the empty implementation) is correct on every target, only less frugal.
pub trait Platform {
    /// Wait cheaply until another core may have called `signal` (Cortex-M: WFE). May return
    /// spuriously: the executor re-checks its condition.
    fn wait_for_signal() {
        core::hint::spin_loop();
    }

    /// Wake cores waiting in `wait_for_signal`; called after every finished task (Cortex-M:
    /// DSB then SEV).
    fn signal() {}

    /// A free-running counter, for `task_ticks`; 0 without one.
    fn counter() -> u32 {
        0
    }
}

/// Busy-waiting cores: nothing to set up, works on every target.
pub struct Spin;

impl Platform for Spin {}

/// Cortex-M cores that share an event line, as dual-core Cortex-M parts do (the AN521's
/// two M33, the RP2040's two M0+, the RP2350's two M33): WFE to wait, DSB + SEV to wake.
#[cfg(target_arch = "arm")]
pub struct WfeSev;

#[cfg(target_arch = "arm")]
impl Platform for WfeSev {
    fn wait_for_signal() {
        // SAFETY: WFE only waits for an event; it touches no memory.
        unsafe { core::arch::asm!("wfe", options(nomem, nostack, preserves_flags)) };
    }

    fn signal() {
        // SAFETY: DSB makes the task's stores visible before SEV wakes the other cores.
        unsafe { core::arch::asm!("dsb", "sev", options(nostack, preserves_flags)) };
    }
}

/// The executor's `Board` over a `Platform`: only waiting, waking and the counter are used
/// by the executor; the rest belongs to the application, so it is inert here.
pub struct OnPlatform<P>(PhantomData<P>);

impl<P: Platform> Board for OnPlatform<P> {
    const NAME: &'static str = "library";
    const CORES: usize = MAX_CORES;
    const COUNTER_HZ: u32 = 1;

    fn core_id() -> usize {
        0
    }

    fn start_other_cores(_entry: fn(usize) -> !) {
        panic!("the application starts its cores (and runs the model's worker on each)")
    }

    fn serial_write(_bytes: &[u8]) {}

    fn serial_read() -> Option<u8> {
        None
    }

    fn counter() -> u32 {
        P::counter()
    }

    fn exit(_code: i32) -> ! {
        loop {
            P::wait_for_signal();
        }
    }

    fn wait_for_signal() {
        P::wait_for_signal();
    }

    fn signal() {
        P::signal();
    }
}

/// An element type of a model input or output, as the arena holds it (native order).
pub trait Elem: Copy {
    const SIZE: usize;
    fn put(self, out: &mut [u8]);
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! elem {
    ($($t:ty),*) => {$(
        impl Elem for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            fn put(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_ne_bytes());
            }
            fn get(bytes: &[u8]) -> Self {
                let mut b = [0u8; core::mem::size_of::<$t>()];
                b.copy_from_slice(bytes);
                <$t>::from_ne_bytes(b)
            }
        }
    )*};
}
elem!(i8, u8, i16, i32, f32);

/// Quantization and shape of one model input or output, as consts of the generated crate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TensorInfo {
    pub shape: &'static [usize],
    /// "int8", "float32", ...
    pub dtype: &'static str,
    /// Elements (the length of the array `run` takes or fills).
    pub len: usize,
    /// real = scale * (q - zero_point); 0.0 and 0 for float tensors.
    pub scale: f32,
    pub zero_point: i32,
}

/// Copy `data` into input `index` of `model` in the arena.
///
/// # Safety
/// No inference of `model` may run meanwhile (the generated `Model` handle, which is
/// unique, guarantees it); `data.len() * T::SIZE` must be the input's byte length.
pub unsafe fn set_input<T: Elem>(model: &Model, index: usize, data: &[T]) {
    let slot = model.inputs[index];
    assert_eq!(data.len() * T::SIZE, slot.len, "input {index}: wrong length");
    // SAFETY: forwarded contract (between inferences, so no core reads the arena).
    let bytes = unsafe { (model.bytes)(slot.offset, slot.len) };
    for (v, out) in data.iter().zip(bytes.chunks_exact_mut(T::SIZE)) {
        v.put(out);
    }
}

/// Copy output `index` of `model` out of the arena.
///
/// # Safety
/// As `set_input`: after an inference, before the next one.
pub unsafe fn get_output<T: Elem>(model: &Model, index: usize, out: &mut [T]) {
    let slot = model.outputs[index];
    assert_eq!(out.len() * T::SIZE, slot.len, "output {index}: wrong length");
    // SAFETY: forwarded contract.
    let bytes = unsafe { (model.bytes)(slot.offset, slot.len) };
    for (v, b) in out.iter_mut().zip(bytes.chunks_exact(T::SIZE)) {
        *v = T::get(b);
    }
}

/// Run one inference on every core: this core runs its table (it is the schedule's core 0)
/// while each other core runs its own in `worker`; returns when all are finished.
pub fn infer<P: Platform>(model: &Model) {
    executor::infer::<OnPlatform<P>>(model.schedule);
}

/// The loop of schedule core `core` (1..): runs its table once per inference, forever.
/// A core the schedule does not use sleeps.
pub fn worker<P: Platform>(model: &Model, core: usize) -> ! {
    executor::worker::<OnPlatform<P>>(model.schedule, core)
}

/// Counter ticks (of `Platform::counter`) each task took in the last inference.
pub fn task_ticks(model: &Model, task: usize) -> u32 {
    model.schedule.ticks[task].load(core::sync::atomic::Ordering::Relaxed)
}
