//! Board support for the Nordic nRF5340 (as on the nRF5340 DK): an application core
//! (Cortex-M33 with FPU, up to 128 MHz, 1 MiB flash, 512 KiB SRAM) and a network core
//! (Cortex-M33 without FPU, 64 MHz, 256 KiB flash, 64 KiB SRAM) that boot SEPARATE images,
//! each from the vector table at the origin of its own flash.
//!
//! One crate, two sides: feature `app` builds the application core's image (core 0),
//! feature `net` the network core's (core 1); boards/nrf5340.toml selects one per image.
//! The two images meet only in arielml's shared block at the start of the application
//! SRAM (0x2000_0000), which the network core reaches at the same address.
//!
//! Application core (`app.rs`): FICR trims and the APPROTECT soft branch as Nordic's
//! SystemInit does, instruction cache on, the 32 MHz crystal (HFXO) started and HCLK
//! at 128 MHz (CLOCK.HFCLKCTRL = Div1), TIMER0 as the 16 MHz counter, UARTE0 at
//! 115200 8N1 on the DK's VCOM0 pins (P0.20 TXD, P0.22 RXD). It runs in the secure state;
//! `start_other_images` gives the network core's bus accesses the secure attribute (SPU
//! EXTDOMAIN[0].PERM.SECATTR, without which it cannot read the secure application SRAM)
//! and releases it from Force-OFF (RESET.NETWORK.FORCEOFF).
//!
//! Network core (`net.rs`): FICR trims, APPROTECT soft branch, its own TIMER0 at 16 MHz, so
//! that the task ticks of both cores are in one unit (`COUNTER_HZ`) although their clocks
//! differ. It never serves the host: its serial functions do nothing, and a panic is kept
//! in `ARIELML_NET_PANIC` (network core RAM, for a debugger) instead of being printed.
//!
//! Waiting: SEV on one nRF5340 core does not set the other core's event register (each
//! core's WFE/SEV is local to its own domain), so `wait_for_signal` is a short spin
//! (`cortex_m::asm::delay`) and `signal` does nothing; the executor re-checks its words.
//! The delay keeps a waiting core from hammering the application SRAM that the other core
//! is computing in. IPC events could wake a WFE across cores, at the price of interrupt
//! set-up on both sides; not done. Across the cores the executor needs only loads, stores
//! and barriers on the shared block, no exclusive accesses (LDREX/STREX), whose monitor
//! need not span the two domains.
//!
//! The serial lock is the runtime's default compare-and-swap spin lock (the M33 has
//! LDREX/STREX); only the application core ever writes to the serial link.
#![no_std]

#[cfg(all(feature = "app", feature = "net"))]
compile_error!("arielml-board-nrf5340: enable exactly one of the features `app` and `net`, not both");
#[cfg(not(any(feature = "app", feature = "net")))]
compile_error!("arielml-board-nrf5340: enable one of the features `app` (application core) or `net` (network core)");

pub use arielml_runtime as runtime;
pub use cortex_m_rt;
#[cfg(feature = "app")]
pub use nrf5340_app_pac as pac;
#[cfg(all(feature = "net", not(feature = "app")))]
pub use nrf5340_net_pac as pac;

#[cfg(feature = "app")]
mod app;
#[cfg(all(feature = "net", not(feature = "app")))]
mod net;
#[cfg(feature = "app")]
use app as side;
#[cfg(all(feature = "net", not(feature = "app")))]
use net as side;

use arielml_runtime::board::Board;

/// The serial link's baud rate (boards/nrf5340.toml `serial_baud`); the application core's
/// UARTE gets its register encoding (`app::BAUD_115200`).
const BAUD: u32 = arielml_runtime::board_fact!("SERIAL_BAUD");
const _: () = assert!(arielml_runtime::board_fact!("CORES") == 2, "the nRF5340 has two cores");
const _: () = assert!(arielml_runtime::board_fact!("COUNTER_HZ") == COUNTER_HZ, "counter_hz: TIMER0 runs at 16 MHz");

/// Rate of both cores' TIMER0 with PRESCALER 0: the 16 MHz peripheral clock.
pub const COUNTER_HZ: u32 = 16_000_000;
/// Cycles a waiting core idles between two looks at the shared words.
const WAIT_CYCLES: u32 = 32;

pub struct Nrf5340;

/// The board type under the name every board crate exports (used by generated crates).
pub type ThisBoard = Nrf5340;

impl Board for Nrf5340 {
    const NAME: &'static str = arielml_runtime::board_name!();
    const CORES: usize = 2;
    const COUNTER_HZ: u32 = COUNTER_HZ;

    /// 0 in the application core's image, 1 in the network core's: each image runs on
    /// exactly one core, so the feature is the answer.
    fn core_id() -> usize {
        side::CORE
    }

    fn start_other_cores(_entry: fn(usize) -> !) {
        // The network core cannot run a function of the application image (it executes
        // from its own flash): the board has one image per core ([[images]]).
        panic!("nrf5340: the network core boots its own image; build with the board's [[images]]")
    }

    #[cfg(feature = "app")]
    fn start_other_images() {
        app::start_network_core()
    }

    fn serial_write(bytes: &[u8]) {
        side::serial_write(bytes)
    }

    fn serial_read() -> Option<u8> {
        side::serial_read()
    }

    fn counter() -> u32 {
        side::counter()
    }

    fn exit(_code: i32) -> ! {
        // A board has no host to report a status to: park the core (a debugger can still
        // attach). Whatever the firmware had to say went over the serial link.
        loop {
            cortex_m::asm::wfi();
        }
    }

    fn wait_for_signal() {
        cortex_m::asm::delay(WAIT_CYCLES);
    }

    // `signal`: the default (nothing), see the crate docs.
}

/// Called first on each core, before `app`: that side's clocks, counter and (application
/// core) serial link.
pub fn init() {
    side::init()
}

/// Copy the factory trim values (FICR.TRIMCNF: register address, value) into their
/// registers up to the first unused entry (address 0xFFFF_FFFF), as Nordic's SystemInit
/// does on both cores.
fn apply_trims(entries: impl Iterator<Item = (u32, u32)>) {
    for (addr, data) in entries {
        if addr == 0xFFFF_FFFF {
            break;
        }
        // SAFETY: FICR names a register of this core's domain and the value to load into it.
        unsafe { (addr as *mut u32).write_volatile(data) };
    }
}

/// Start this core's TIMER0 as a free-running 32-bit counter at 16 MHz (PRESCALER 0).
fn start_timer(timer: &pac::timer0_ns::RegisterBlock) {
    // SAFETY: plain register writes; the values are the documented encodings: MODE 0
    // (timer), BITMODE 3 (32 bit), PRESCALER 0 (16 MHz / 2^0), tasks triggered with 1.
    timer.tasks_stop.write(|w| unsafe { w.bits(1) });
    timer.mode.write(|w| unsafe { w.bits(0) });
    timer.bitmode.write(|w| unsafe { w.bits(3) });
    timer.prescaler.write(|w| unsafe { w.bits(0) });
    timer.tasks_clear.write(|w| unsafe { w.bits(1) });
    timer.tasks_start.write(|w| unsafe { w.bits(1) });
}

/// The counter of a timer started by `start_timer`: capture into CC[0] and read it. Each
/// core reads only its own TIMER0, from one context, so the capture-read pair is not raced.
fn read_timer(timer: &pac::timer0_ns::RegisterBlock) -> u32 {
    // SAFETY: triggering CAPTURE[0] only overwrites CC[0], which nothing else uses.
    timer.tasks_capture[0].write(|w| unsafe { w.bits(1) });
    timer.cc[0].read().bits()
}

/// Report a panic: on the application core over the serial link, on the network core into
/// `ARIELML_NET_PANIC`; then park the core.
pub fn panic(info: &core::panic::PanicInfo) -> ! {
    side::panic(info)
}

/// Each core's HardFault: one line naming the core, its task and the faulting pc (the
/// network core has no serial link: there it only parks the core, as its `exit` does).
#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    arielml_runtime::fault::fault::<Nrf5340>("HardFault", frame.pc() as usize)
}

/// Define the firmware's reset entry: this side's `init`, then `app(core_id())` (core 0
/// serves the host and releases the network core; core 1 waits for the shared block).
#[macro_export]
macro_rules! entry {
    ($app:path) => {
        #[$crate::cortex_m_rt::entry]
        fn main() -> ! {
            $crate::init();
            $app(<$crate::ThisBoard as $crate::runtime::board::Board>::core_id())
        }

        #[panic_handler]
        fn panic(info: &core::panic::PanicInfo) -> ! {
            $crate::panic(info)
        }
    };
}
