//! The narrow interface between the runtime and a board-support crate.
//!
//! Hardware is global, so the trait has associated functions only. A board crate
//! implements it once and provides the reset entry that calls the application's
//! per-core function (see each board crate's `entry!` macro).

/// Upper bound on cores any supported board has; sizes static per-core tables.
pub const MAX_CORES: usize = 8;

/// A number from the board's TOML file (decimal), as arielml gives it to every crate of a
/// build in `ARIELML_BOARD_*` variables: `board_fact!("CORES")`, `board_fact!("COUNTER_HZ")`,
/// `board_fact!("SERIAL_BAUD")`. The board file is the one place these facts are written; a
/// board crate derives its constants from them (or, for a rate its own clock set-up fixes,
/// checks at compile time that the file says the same). Board crates are built by arielml
/// (`build/cargo.py` sets the variables); elsewhere they do not compile.
#[macro_export]
macro_rules! board_fact {
    ($name:literal) => {
        $crate::board::parse_decimal(env!(concat!("ARIELML_BOARD_", $name)))
    };
}

/// The board's name (`name` in its TOML file), from `ARIELML_BOARD_NAME`.
#[macro_export]
macro_rules! board_name {
    () => {
        env!("ARIELML_BOARD_NAME")
    };
}

/// `s` as a decimal number, at compile time (a malformed value stops the build).
pub const fn parse_decimal(s: &str) -> u32 {
    let b = s.as_bytes();
    assert!(!b.is_empty(), "empty board fact");
    let mut v: u32 = 0;
    let mut i = 0;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "board fact is not a decimal number");
        v = v * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    v
}

pub trait Board {
    /// The board's name, as in `boards/<name>.toml`.
    const NAME: &'static str;
    /// Number of cores the firmware starts (all of the board's cores).
    const CORES: usize;

    /// Index of the calling core, `0..CORES`.
    fn core_id() -> usize;

    /// Release cores `1..CORES` into `entry(core_id)`. Called once, by core 0, after
    /// memory is initialised: other cores must not run Rust code before this.
    fn start_other_cores(entry: fn(usize) -> !);

    /// Boards whose cores run separate images (one per core; see `boards/*.toml`
    /// `[[images]]`): release the cores of images 1.., which start at their own image's
    /// reset handler (the generated linker script of image 0 provides each image's vector
    /// table address as `__arielml_image<k>_vectors`). Called once, by core 0, after it has
    /// published the shared block. Boards with one image keep this default, never called.
    fn start_other_images() {
        panic!("{} runs a single image", Self::NAME)
    }

    /// Blocking write of bytes to the board's host serial link.
    fn serial_write(bytes: &[u8]);

    /// Next byte from the host serial link, if one has arrived.
    fn serial_read() -> Option<u8>;

    /// A free-running counter for timing, in units of `1 / COUNTER_HZ` seconds.
    fn counter() -> u32;
    const COUNTER_HZ: u32;

    /// End the run with a status the host can read (emulator exit status on QEMU).
    fn exit(code: i32) -> !;

    /// Wait cheaply for another core's `signal` (Cortex-M: WFE). May return spuriously:
    /// callers re-check their condition.
    fn wait_for_signal() {
        core::hint::spin_loop();
    }

    /// As `wait_for_signal`, but returns at the latest about `ticks` counter ticks later
    /// (the executor's stuck-core report needs to wake up when nobody signals). The
    /// default suits boards whose wait ends by itself (a spin, QEMU's WFE, a periodic
    /// tick); boards that can sleep forever override it with a timer wake-up.
    fn wait_for_signal_or_timeout(ticks: u32) {
        let _ = ticks;
        Self::wait_for_signal();
    }

    /// Wake cores waiting in `wait_for_signal` (Cortex-M: SEV).
    fn signal() {}

    /// Run `f` holding the board's serial lock, so that lines written by several cores
    /// do not interleave. The default is a spin lock on an atomic compare-and-swap. Cores
    /// without compare-and-swap (thumbv6m: the RP2040's Cortex-M0+) must override it with
    /// a hardware lock; on such targets the default runs `f` unlocked.
    fn lock_serial(f: &mut dyn FnMut()) {
        #[cfg(target_has_atomic = "8")]
        {
            use core::sync::atomic::{AtomicBool, Ordering};
            static LOCK: AtomicBool = AtomicBool::new(false);
            while LOCK.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
                core::hint::spin_loop();
            }
            f();
            LOCK.store(false, Ordering::Release);
        }
        #[cfg(not(target_has_atomic = "8"))]
        f();
    }
}

/// `core::fmt::Write` over a board's serial link, for `write!` without a heap.
pub struct SerialWriter<B: Board>(core::marker::PhantomData<B>);

impl<B: Board> SerialWriter<B> {
    pub const fn new() -> Self {
        SerialWriter(core::marker::PhantomData)
    }
}

impl<B: Board> Default for SerialWriter<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Board> core::fmt::Write for SerialWriter<B> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        B::serial_write(s.as_bytes());
        Ok(())
    }
}
