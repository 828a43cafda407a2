//! Board support for the Espressif ESP32-C3: one RV32IMC core at 160 MHz, as on an
//! ESP32-C3-DevKitM-1 or DevKitC-02 (or any board with the chip and 4 MiB of flash).
//!
//! Built on esp-hal 1.x and its runtime (esp-riscv-rt). The image is linked with esp-hal's
//! own `linkall.x` and memory map, not arielml's memory.x (board runtime "esp-hal"): code in
//! flash through the IROM window (0x4200_0020 on), constants through the DROM window
//! (0x3C00_0020 on), trap code in IRAM, data, bss and the stack in the 313 KiB of DRAM from
//! 0x3FC8_0000 that the application gets (the rest of the SRAM is the instruction cache,
//! the second-stage bootloader's load area and the ROM's data). The ESP-IDF second-stage
//! bootloader loads the image from the app partition (0x10000) and checks the application
//! descriptor that `entry!` puts in `.flash.appdesc`.
//!
//! Serial: both of the links ESP32-C3 boards offer, at once. UART0 on GPIO21 (TX) / GPIO20
//! (RX) at 115200 8N1, which DevKitM-1 and DevKitC-02 wire to the USB-UART bridge behind
//! their USB connector; and the chip's USB-Serial-JTAG (GPIO18/19), the only USB port of
//! many smaller boards. `serial_read` takes a byte from whichever has one; `serial_write`
//! writes to both. UART writes block (the UART drains whether or not anything listens);
//! USB writes wait for the host to take the data for at most `USB_STALL_CYCLES`, then the
//! link counts as stalled (a USB port no program has open) and output to it is dropped,
//! without waiting, until a byte arrives from the USB host. So a host on either link is
//! answered, and an unread USB port never blocks the firmware.
//!
//! Counter: the core's machine performance counter (custom CSRs mpcer 0x7E0, mpcmr 0x7E1,
//! mpccr 0x7E2; the ESP32-C3 has no `mcycle`), set by `init` to count CPU cycles and to
//! wrap: `COUNTER_HZ` is the 160 MHz CPU clock. `init` also sets the CPU clock (esp-hal's
//! `init` turns the watchdogs off). A real board has no exit: `exit` parks the core.
//!
//! One core: `start_other_cores` has nothing to start, and the serial lock is the
//! runtime's default, which on this target (no compare-and-swap) runs its closure unlocked.
#![no_std]

pub use arielml_runtime as runtime;
pub use esp_bootloader_esp_idf;
pub use esp_hal as hal;

use core::cell::UnsafeCell;

use arielml_runtime::board::Board;
use esp_hal::clock::CpuClock;
use esp_hal::uart::{self, Uart};
use esp_hal::usb::usb_serial_jtag::UsbSerialJtag;
use esp_hal::Blocking;

/// CPU clock, as `clock_hz` and `counter_hz` in boards/esp32c3.toml.
pub const CPU_HZ: u32 = 160_000_000;
const BAUD: u32 = arielml_runtime::board_fact!("SERIAL_BAUD");
const _: () = assert!(arielml_runtime::board_fact!("CORES") == 1, "the ESP32-C3 has one core");
const _: () = assert!(arielml_runtime::board_fact!("COUNTER_HZ") == CPU_HZ, "counter_hz: the performance counter counts CPU cycles");
/// How long a USB write waits for the host to drain the 64-byte endpoint FIFO before the
/// link counts as stalled: 20 ms (a host with the port open polls every 1 ms frame).
const USB_STALL_CYCLES: u32 = CPU_HZ / 50;

/// The serial links, set up by `init`.
struct Links {
    uart: Uart<'static, Blocking>,
    usb: UsbSerialJtag<'static, Blocking>,
    /// No host drained the USB FIFO in time: drop USB output until the host speaks.
    usb_stalled: bool,
}

/// A cell for the one core's state. Sound because there is one core and no interrupt
/// handler touches it (none is enabled): accesses never overlap.
struct CoreLocal<T>(UnsafeCell<T>);

// SAFETY: one core and no interrupts use it, see above.
unsafe impl<T> Sync for CoreLocal<T> {}

static LINKS: CoreLocal<Option<Links>> = CoreLocal(UnsafeCell::new(None));

/// Run `f` on the links; nothing if `init` has not set them up yet (an early panic).
fn with_links<R>(f: impl FnOnce(&mut Links) -> R) -> Option<R> {
    // SAFETY: see `CoreLocal`; no caller re-enters `with_links` from inside `f`.
    unsafe { (*LINKS.0.get()).as_mut().map(f) }
}

/// The machine performance counter (mpccr), counting CPU cycles after `init`.
#[inline(always)]
fn cycles() -> u32 {
    let c: u32;
    // SAFETY: reading a CSR has no side effect.
    unsafe { core::arch::asm!("csrr {0}, 0x7e2", out(reg) c, options(nomem, nostack)) };
    c
}

pub struct Esp32c3;

/// The board type under the name every board crate exports (used by generated crates).
pub type ThisBoard = Esp32c3;

impl Board for Esp32c3 {
    const NAME: &'static str = arielml_runtime::board_name!();
    const CORES: usize = 1;
    /// The performance counter counts CPU cycles.
    const COUNTER_HZ: u32 = CPU_HZ;

    fn core_id() -> usize {
        0
    }

    fn start_other_cores(_entry: fn(usize) -> !) {}

    fn serial_write(bytes: &[u8]) {
        with_links(|l| {
            usb_write(l, bytes);
            let mut rest = bytes;
            while !rest.is_empty() {
                match l.uart.write(rest) {
                    Ok(n) => rest = &rest[n..],
                    Err(_) => break,
                }
            }
        });
    }

    fn serial_read() -> Option<u8> {
        with_links(|l| {
            if let Ok(b) = l.usb.read_byte() {
                l.usb_stalled = false; // a host is there and talking
                return Some(b);
            }
            if l.uart.read_ready() {
                let mut b = [0u8; 1];
                if let Ok(1) = l.uart.read(&mut b) {
                    return Some(b[0]);
                }
            }
            None
        })
        .flatten()
    }

    fn counter() -> u32 {
        cycles()
    }

    fn exit(_code: i32) -> ! {
        // No host to report to: whatever the firmware had to say went over the serial link.
        loop {
            core::hint::spin_loop();
        }
    }
}

/// Best-effort write to the USB-Serial-JTAG: see the crate documentation.
fn usb_write(l: &mut Links, bytes: &[u8]) {
    for &b in bytes {
        if l.usb.write_byte_nb(b).is_ok() {
            continue;
        }
        if l.usb_stalled {
            return; // drop the rest without waiting
        }
        // The FIFO is full: send it and wait for the host to take it.
        let _ = l.usb.flush_tx_nb();
        let start = cycles();
        while l.usb.write_byte_nb(b).is_err() {
            if cycles().wrapping_sub(start) > USB_STALL_CYCLES {
                l.usb_stalled = true;
                return;
            }
        }
    }
    let _ = l.usb.flush_tx_nb(); // send what is left now, not when the FIFO fills
}

/// Called once before anything else: CPU at 160 MHz (watchdogs off: esp-hal's `init`),
/// the cycle counter on, UART0 and the USB-Serial-JTAG up.
pub fn init() {
    // SAFETY: mpcer = cycles (bit 0); mpcmr = count enable (bit 0), wrap on overflow (bit 1
    // clear). Only this counter's configuration changes.
    unsafe { core::arch::asm!("csrwi 0x7e0, 1", "csrwi 0x7e1, 1", options(nomem, nostack)) };
    let p = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::_160MHz));
    let uart = match Uart::new(p.UART0, uart::Config::default().with_baudrate(BAUD)) {
        Ok(u) => u.with_tx(p.GPIO21).with_rx(p.GPIO20),
        Err(_) => Esp32c3::exit(1), // a fixed, valid configuration: cannot happen
    };
    let usb = UsbSerialJtag::new(p.USB_DEVICE);
    // SAFETY: see `CoreLocal`; nothing reads the links before this.
    unsafe { *LINKS.0.get() = Some(Links { uart, usb, usb_stalled: false }) };
}

/// Define the firmware's entry, called by esp-riscv-rt (through esp-hal's `hal_main`) once
/// memory is set up: `init`, then `app(0)`. Also the ESP-IDF application descriptor, which
/// the second-stage bootloader requires, and the panic handler.
#[macro_export]
macro_rules! entry {
    ($app:path) => {
        $crate::esp_bootloader_esp_idf::esp_app_desc!();

        #[export_name = "main"]
        fn __arielml_main(_a0: usize, _a1: usize, _a2: usize) -> ! {
            $crate::init();
            $app(0)
        }

        #[panic_handler]
        fn panic(info: &core::panic::PanicInfo) -> ! {
            $crate::panic(info)
        }
    };
}

/// Report a panic in one line naming the core and task, and end the run with status 101.
pub fn panic(info: &core::panic::PanicInfo) -> ! {
    arielml_runtime::fault::panic::<Esp32c3>(info)
}
