//! Board support for the Raspberry Pi RP2040 (2x Cortex-M0+), as on a Raspberry Pi Pico.
//!
//! Startup is cortex-m-rt's on core 0, after the boot ROM has run the 256-byte second
//! stage bootloader (`BOOT2_FIRMWARE`, from rp2040-boot2, for the Pico's W25Q080 flash)
//! that arielml's memory.x places at the start of flash. `init` brings the system clock
//! to 133 MHz from the 12 MHz crystal, UART0 up on GPIO0 (TX) / GPIO1 (RX) at 115200 8N1
//! and the 1 MHz TIMER. Core 1 is started with rp2040-hal's multicore FIFO handshake on a
//! static stack, once a bounded probe saw it answer the boot ROM's launch protocol; if it
//! does not (an emulator of core 0 only, e.g. rp2040js), core 0 says so and runs alone.
//!
//! The host serial link is both UART0 and the RP2040's USB port, a CDC-ACM device (`usb`
//! module: /dev/ttyACM0 on Linux, no adapter needed on a Pico). `serial_read` takes a byte
//! from whichever has one (UART0 first); `serial_write` writes to UART0 exactly as before and
//! also queues the bytes for USB while a USB host has the port open. The USB stack runs in
//! core 0's USBCTRL_IRQ, so it enumerates and answers while core 0 computes; core 1 only
//! queues bytes. A board without a USB host (on a battery, UART0 wired) works as before: USB
//! init waits for nothing and writes skip USB. A real board has no exit: `exit` parks the
//! core (after handing queued USB bytes to the host).
//!
//! thumbv6m has no atomic compare-and-swap, so the serial lock is hardware spinlock 0
//! (rp2040-hal's critical-section implementation uses spinlock 31).
#![no_std]

pub use arielml_runtime as runtime;
pub use cortex_m_rt;
pub use rp2040_hal as hal;

/// The board's name (`Board::NAME`, and the USB product string "arielml rp2040"): the board file's.
macro_rules! board_name {
    () => {
        arielml_runtime::board_name!()
    };
}

pub mod usb;

use core::ptr::{addr_of, addr_of_mut};

use arielml_runtime::board::Board;
use hal::fugit::{HertzU32, RateExtU32};
use hal::pac;

/// The Pico's second-stage bootloader (W25Q080 flash), 256 bytes ending in its CRC-32.
/// The name is what arielml's memory.x keeps (`EXTERN(BOOT2_FIRMWARE)`) in `.boot2`.
#[link_section = ".boot2"]
#[used]
#[no_mangle]
pub static BOOT2_FIRMWARE: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

/// The Pico's crystal.
const XOSC_HZ: u32 = 12_000_000;
/// System clock: the RP2040's rated maximum, 12 MHz * 133 / 6 / 2 (VCO 1596 MHz).
pub const SYS_HZ: u32 = 133_000_000;
const PLL_SYS_133MHZ: hal::pll::PLLConfig = hal::pll::PLLConfig {
    vco_freq: HertzU32::MHz(1596),
    refdiv: 1,
    post_div1: 6,
    post_div2: 2,
};
const BAUD: u32 = arielml_runtime::board_fact!("SERIAL_BAUD");
const _: () = assert!(arielml_runtime::board_fact!("CORES") == 2, "the RP2040 has two cores");
const _: () = assert!(arielml_runtime::board_fact!("COUNTER_HZ") == 1_000_000, "counter_hz: TIMER counts microseconds");

/// Core 1's stack, in words (16 KiB, as `stack_bytes` in boards/rp2040.toml).
const CORE1_STACK_WORDS: usize = 4096;
static CORE1_STACK: hal::multicore::Stack<CORE1_STACK_WORDS> = hal::multicore::Stack::new();

pub struct Rp2040;

/// The board type under the name every board crate exports (used by generated crates).
pub type ThisBoard = Rp2040;

static mut CORE1_ENTRY: Option<fn(usize) -> !> = None;

impl Board for Rp2040 {
    const NAME: &'static str = board_name!();
    const CORES: usize = 2;
    /// TIMER counts microseconds (the watchdog tick, from the 12 MHz crystal).
    const COUNTER_HZ: u32 = 1_000_000;

    fn core_id() -> usize {
        // SAFETY: SIO CPUID is read-only and reads as the index of the core reading it.
        unsafe { (*pac::SIO::ptr()).cpuid().read().bits() as usize }
    }

    fn start_other_cores(entry: fn(usize) -> !) {
        // SAFETY: core 0 only, once: core 1 sits in the boot ROM until the FIFO handshake
        // below, and nothing else owns PSM, PPB or the SIO FIFO (`init` dropped them).
        unsafe { *addr_of_mut!(CORE1_ENTRY) = Some(entry) };
        let mut p = unsafe { pac::Peripherals::steal() };
        let stack = match CORE1_STACK.take() {
            Some(s) => s,
            None => return, // already started
        };
        if !core1_answers(&mut p.PSM) {
            // Without core 1 (an emulator of core 0 alone, such as rp2040js, or a core 1 that
            // is not in the boot ROM's launch loop) rp2040-hal's spawn would spin forever in
            // its unbounded FIFO drain or read. A one-core build needs nothing from core 1, so
            // carry on: say so, on the serial link, before the host speaks.
            use core::fmt::Write;
            let _ = writeln!(arielml_runtime::board::SerialWriter::<Rp2040>::new(),
                             "core 1 did not answer the boot ROM launch handshake: core 0 only");
            return;
        }
        let mut sio = hal::Sio::new(p.SIO);
        let mut mc = hal::multicore::Multicore::new(&mut p.PSM, &mut p.PPB, &mut sio.fifo);
        if mc.cores()[1].spawn(stack, core1_main).is_err() {
            panic!("core 1 did not start");
        }
    }

    fn serial_write(bytes: &[u8]) {
        // UART0 first, exactly as without USB (blocking on its FIFO, 115200 baud), then the
        // same bytes to USB if a host has the port open; in slices, so that USB drains while
        // the UART is busy with the next.
        for chunk in bytes.chunks(32) {
            uart_write(chunk);
            usb::write(chunk);
        }
    }

    fn serial_read() -> Option<u8> {
        // SAFETY: UART0 registers, configured by `init`; only core 0 reads.
        let uart = unsafe { &*pac::UART0::ptr() };
        if uart.uartfr().read().rxfe().bit_is_clear() {
            return Some(uart.uartdr().read().data().bits());
        }
        usb::read()
    }

    fn counter() -> u32 {
        // SAFETY: TIMERAWL is a read-only view of the free-running microsecond counter.
        unsafe { (*pac::TIMER::ptr()).timerawl().read().bits() }
    }

    fn wait_for_signal() {
        cortex_m::asm::wfe();
    }

    fn signal() {
        // SEV on one RP2040 core sets the event flag of the other.
        cortex_m::asm::dsb();
        cortex_m::asm::sev();
    }

    fn exit(_code: i32) -> ! {
        // No host to report to: whatever the firmware had to say went over the serial link.
        // Queued USB bytes go out from core 0's interrupt, which keeps running.
        usb::flush();
        loop {
            cortex_m::asm::wfe();
        }
    }

    fn lock_serial(f: &mut dyn FnMut()) {
        let _lock = hal::sio::Spinlock0::claim();
        f();
    }
}

fn uart_write(bytes: &[u8]) {
    // SAFETY: UART0 registers, configured by `init`; writers are serialised by the caller.
    let uart = unsafe { &*pac::UART0::ptr() };
    for &b in bytes {
        while uart.uartfr().read().txff().bit_is_set() {}
        uart.uartdr().write(|w| unsafe { w.data().bits(b) });
    }
}

/// Called once by core 0 before anything else: clocks, serial, timer and USB on.
pub fn init() {
    // SAFETY: a debugger reset leaves the SIO spinlocks as they were; nothing holds one yet.
    unsafe { hal::sio::spinlock_reset() };
    let mut p = pac::Peripherals::take().unwrap();
    let mut watchdog = hal::Watchdog::new(p.WATCHDOG);
    let xosc = match hal::xosc::setup_xosc_blocking(p.XOSC, XOSC_HZ.Hz()) {
        Ok(x) => x,
        Err(_) => Rp2040::exit(1),
    };
    // The watchdog tick (1 us from the crystal) drives TIMER.
    watchdog.enable_tick_generation((XOSC_HZ / 1_000_000) as u8);
    let mut clocks = hal::clocks::ClocksManager::new(p.CLOCKS);
    let pll_sys = hal::pll::setup_pll_blocking(p.PLL_SYS, xosc.operating_frequency(), PLL_SYS_133MHZ,
                                               &mut clocks, &mut p.RESETS);
    let pll_usb = hal::pll::setup_pll_blocking(p.PLL_USB, xosc.operating_frequency(),
                                               hal::pll::common_configs::PLL_USB_48MHZ, &mut clocks,
                                               &mut p.RESETS);
    let (Ok(pll_sys), Ok(pll_usb)) = (pll_sys, pll_usb) else { Rp2040::exit(1) };
    if clocks.init_default(&xosc, &pll_sys, &pll_usb).is_err() {
        Rp2040::exit(1);
    }
    use hal::Clock;
    let sio = hal::Sio::new(p.SIO);
    let pins = hal::gpio::Pins::new(p.IO_BANK0, p.PADS_BANK0, sio.gpio_bank0, &mut p.RESETS);
    let uart_pins = (
        pins.gpio0.into_function::<hal::gpio::FunctionUart>(),
        pins.gpio1.into_function::<hal::gpio::FunctionUart>(),
    );
    let config = hal::uart::UartConfig::new(BAUD.Hz(), hal::uart::DataBits::Eight, None,
                                            hal::uart::StopBits::One);
    let uart = hal::uart::UartPeripheral::new(p.UART0, uart_pins, &mut p.RESETS)
        .enable(config, clocks.peripheral_clock.freq());
    if uart.is_err() {
        Rp2040::exit(1);
    }
    // The UART and the timer keep running when their HAL handles go: the board uses
    // their registers directly (see `serial_write`, `counter`).
    let _timer = hal::Timer::new(p.TIMER, &mut p.RESETS, &clocks);
    core::mem::forget(uart);
    // USB last: its interrupt may fire from here on (core 0 only), with UART0 and TIMER up.
    usb::init(p.USBCTRL_REGS, p.USBCTRL_DPRAM, clocks.usb_clock, &mut p.RESETS);
}

/// Whether core 1, freshly reset, is in the boot ROM's launch loop: it must echo the
/// first word (0) of the launch sequence (RP2040 datasheet 2.8.2), with every wait bounded.
/// rp2040-hal's `spawn` then runs the whole sequence (resetting core 1 again, which is
/// harmless: a reset core 1 always goes back to that loop).
fn core1_answers(psm: &mut pac::PSM) -> bool {
    // SAFETY: core 0 only, before core 1 runs anything; the FIFO is not used elsewhere yet.
    let sio = unsafe { &*pac::SIO::ptr() };
    // Reset core 1, as `spawn` does.
    psm.frce_off().modify(|_, w| w.proc1().set_bit());
    while !psm.frce_off().read().proc1().bit_is_set() {
        cortex_m::asm::nop();
    }
    psm.frce_off().modify(|_, w| w.proc1().clear_bit());
    // The FIFO holds 8 words: 8 reads empty it, or it is not a working FIFO.
    for _ in 0..8 {
        if sio.fifo_st().read().vld().bit_is_clear() {
            break;
        }
        let _ = sio.fifo_rd().read();
    }
    if sio.fifo_st().read().vld().bit_is_set() {
        return false;
    }
    cortex_m::asm::sev();
    // 10 ms on the 1 MHz TIMER (running since `init`): the ROM answers in microseconds.
    let start = Rp2040::counter();
    let waited = || Rp2040::counter().wrapping_sub(start) > 10_000;
    while sio.fifo_st().read().rdy().bit_is_clear() {
        if waited() {
            return false;
        }
    }
    sio.fifo_wr().write(|w| unsafe { w.bits(0) });
    cortex_m::asm::sev();
    while sio.fifo_st().read().vld().bit_is_clear() {
        if waited() {
            return false;
        }
    }
    sio.fifo_rd().read().bits() == 0
}

fn core1_main() {
    // SAFETY: written by core 0 before it started this core, never written again.
    let entry = unsafe { *addr_of!(CORE1_ENTRY) };
    match entry {
        Some(f) => f(1),
        None => Rp2040::exit(70),
    }
}

/// Define the firmware's reset entry: `init`, then `app(0)` on core 0 (which may
/// start the other cores into `app`), and core 0's USB interrupt handler. The handler is
/// defined here, in the firmware's own crate, so that the linker cannot leave it out of the
/// vector table (cortex-m-rt's default handler, for interrupts without one, spins forever).
#[macro_export]
macro_rules! entry {
    ($app:path) => {
        #[$crate::cortex_m_rt::entry]
        fn main() -> ! {
            $crate::init();
            $app(0)
        }

        mod __arielml_usb_irq {
            use $crate::hal::pac::interrupt;

            #[interrupt]
            fn USBCTRL_IRQ() {
                $crate::usb::irq();
            }
        }

        #[panic_handler]
        fn panic(info: &core::panic::PanicInfo) -> ! {
            $crate::panic(info)
        }
    };
}

/// Report a panic in one line naming the core and task, and end the run with status 101.
pub fn panic(info: &core::panic::PanicInfo) -> ! {
    arielml_runtime::fault::panic::<Rp2040>(info)
}

/// Both cores' HardFault (configurable faults escalate to it): one line naming the core,
/// its task and the faulting pc, then exit status 102.
#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    arielml_runtime::fault::fault::<Rp2040>("HardFault", frame.pc() as usize)
}
