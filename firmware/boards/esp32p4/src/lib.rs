//! Board support for the Espressif ESP32-P4 (chip revision v3.0 or later): two RV32IMAFC
//! HP cores at 400 MHz, as on an ESP32-P4-Function-EV-Board (or any board with the chip and
//! at least 4 MiB of flash).
//!
//! Built on esp-hal 1.x and its runtime (esp-riscv-rt), linked with esp-hal's own
//! `linkall.x` and memory map, not arielml's memory.x (board runtime "esp-hal"): code and
//! constants in flash through the cache's 4 MiB window at 0x4000_0020, data, bss and core
//! 0's stack in the L2 RAM esp-hal gives the application (0x4FF4_0000..0x4FFA_DFC0 with
//! esp-hal's default 256 KiB of L2 cache). PSRAM is not used. The ESP-IDF
//! second-stage bootloader loads the image from the app partition (0x10000) and checks the
//! application descriptor that `entry!` puts in `.flash.appdesc`.
//!
//! Core 1 (the second HP core) is started as esp-hal 1.2's `CpuControl::start_app_core`
//! does it on the P4 (soc/esp32p4/cpu_control.rs): its clock on, out of global reset, the
//! entry handed to the ROM it polls (`ets_set_appcpu_boot_addr`), unstalled through the PMU.
//! That function itself cannot be used with this toolchain: its naked entry (generic, so
//! assembled in this crate) holds `fscsr`, which LLVM's assembler rejects there for lack of
//! the F extension although the target has it. `_arielml_core1_start` below does the same
//! set-up (gp, FPU on, stack) with `.option arch, +f` around that instruction. Core 1 runs
//! on a static stack of the board file's `stack_bytes`; both cores read their index from
//! `mhartid`. The cores share the L2 RAM (the arena, the executor's words); waits spin.
//!
//! Serial: as on the ESP32-C3 board crate, both links at once: UART0 on GPIO37 (TX) /
//! GPIO38 (RX) at 115200 8N1 (the EV board's USB-UART bridge) and the chip's
//! USB-Serial-JTAG (GPIO24/25); reads from either, writes to both, USB output dropped after
//! a 20 ms stall until the host speaks. Only core 0 serves the host; the serial lock is the
//! runtime's compare-and-swap spin lock (the target has the A extension).
//!
//! Counter: the standard `mcycle` CSR of each core, counting CPU cycles at 400 MHz (the
//! cores share the clock, so ticks compare). A real board has no exit: `exit` parks the core.
#![no_std]

pub use arielml_runtime as runtime;
pub use esp_bootloader_esp_idf;
pub use esp_hal as hal;

use core::cell::UnsafeCell;
use core::ptr::addr_of_mut;

use arielml_runtime::board::Board;
use esp_hal::clock::CpuClock;
use esp_hal::uart::{self, Uart};
use esp_hal::usb::usb_serial_jtag::UsbSerialJtag;
use esp_hal::Blocking;

/// CPU clock, as `clock_hz` and `counter_hz` in boards/esp32p4.toml.
pub const CPU_HZ: u32 = 400_000_000;
const BAUD: u32 = arielml_runtime::board_fact!("SERIAL_BAUD");
const _: () = assert!(arielml_runtime::board_fact!("CORES") == 2, "the ESP32-P4 has two HP cores");
const _: () = assert!(arielml_runtime::board_fact!("COUNTER_HZ") == CPU_HZ, "counter_hz: mcycle counts CPU cycles");
/// How long a USB write waits for the host before the link counts as stalled: 20 ms.
const USB_STALL_CYCLES: u32 = CPU_HZ / 50;
/// Core 1's stack: `stack_bytes` in boards/esp32p4.toml.
const CORE1_STACK_BYTES: usize = 16 * 1024;

/// Core 1's stack (u64: 16-byte aligned top, as the RISC-V ABI wants).
#[repr(align(16))]
struct Core1Stack([u64; CORE1_STACK_BYTES / 8]);
static mut CORE1_STACK: Core1Stack = Core1Stack([0; CORE1_STACK_BYTES / 8]);
/// Read by `_arielml_core1_start`: the top of core 1's stack.
#[no_mangle]
static mut ARIELML_CORE1_SP: u32 = 0;
static mut CORE1_ENTRY: Option<fn(usize) -> !> = None;

// Core 1's first code, entered from the ROM: gp (esp-riscv-rt's `_start` does that on core
// 0), the FPU on (mstatus.FS = initial, fcsr cleared), its stack, then Rust.
core::arch::global_asm!(
    r#".section .text.arielml_core1, "ax"
    .balign 4
    .global _arielml_core1_start
_arielml_core1_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    li t0, 0x6000
    csrrs x0, mstatus, t0
    .option push
    .option arch, +f
    fscsr x0
    .option pop
    la t0, ARIELML_CORE1_SP
    lw sp, 0(t0)
    j arielml_esp32p4_core1
"#
);

extern "C" {
    fn _arielml_core1_start();
}

#[no_mangle]
extern "C" fn arielml_esp32p4_core1() -> ! {
    // The ROM has handed over: clear the boot address so a software reset does not re-enter
    // this image's entry (esp-hal and ESP-IDF do the same).
    esp_rom_sys::rom::ets_set_appcpu_boot_addr(0);
    // SAFETY: written by core 0 before it released this core, never written again.
    match unsafe { *core::ptr::addr_of!(CORE1_ENTRY) } {
        Some(f) => f(1),
        None => Esp32p4::exit(70),
    }
}

/// What `init` sets up, used by core 0 only.
struct Core0 {
    uart: Uart<'static, Blocking>,
    usb: UsbSerialJtag<'static, Blocking>,
    /// No host drained the USB FIFO in time: drop USB output until the host speaks.
    usb_stalled: bool,
}

/// Core 0's state. Sound because only core 0 touches it (`serial_*` are core 0's: the
/// runtime serialises writers under its lock, and core 1 writes only fault lines, which
/// take the same lock) and no interrupt handler does.
struct Core0Cell(UnsafeCell<Option<Core0>>);

// SAFETY: see above.
unsafe impl Sync for Core0Cell {}

static CORE0: Core0Cell = Core0Cell(UnsafeCell::new(None));

fn with_core0<R>(f: impl FnOnce(&mut Core0) -> R) -> Option<R> {
    // SAFETY: see `Core0Cell`; no caller re-enters `with_core0` from inside `f`.
    unsafe { (*CORE0.0.get()).as_mut().map(f) }
}

/// This core's cycle counter (mcycle, low word).
#[inline(always)]
fn cycles() -> u32 {
    let c: u32;
    // SAFETY: reading a CSR has no side effect.
    unsafe { core::arch::asm!("csrr {0}, mcycle", out(reg) c, options(nomem, nostack)) };
    c
}

pub struct Esp32p4;

/// The board type under the name every board crate exports (used by generated crates).
pub type ThisBoard = Esp32p4;

impl Board for Esp32p4 {
    const NAME: &'static str = arielml_runtime::board_name!();
    const CORES: usize = 2;
    /// mcycle counts CPU cycles.
    const COUNTER_HZ: u32 = CPU_HZ;

    fn core_id() -> usize {
        let id: usize;
        // SAFETY: reading a CSR has no side effect.
        unsafe { core::arch::asm!("csrr {0}, mhartid", out(reg) id, options(nomem, nostack)) };
        id
    }

    fn start_other_cores(entry: fn(usize) -> !) {
        // SAFETY: core 0 only, once, before core 1 runs: the statics it reads, then the
        // register sequence of esp-hal's `start_core1` + `unpark_core` (see the crate docs).
        unsafe {
            if (*core::ptr::addr_of!(CORE1_ENTRY)).is_some() {
                return;
            }
            *addr_of_mut!(CORE1_ENTRY) = Some(entry);
            *addr_of_mut!(ARIELML_CORE1_SP) = addr_of_mut!(CORE1_STACK) as u32 + CORE1_STACK_BYTES as u32;
            core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
            let clkrst = &*esp32p4::HP_SYS_CLKRST::ptr();
            clkrst.soc_clk_ctrl0().modify(|_, w| w.core1_cpu_clk_en().set_bit());
            clkrst.hp_rst_en0().modify(|_, w| w.rst_en_core1_global().clear_bit());
            esp_rom_sys::rom::ets_set_appcpu_boot_addr(_arielml_core1_start as usize as u32);
            // 0xFF: running (0x86: stalled), then wait until the stall has dropped.
            (*esp32p4::PMU::ptr()).cpu_sw_stall().modify(|_, w| w.hpcore1_sw_stall_code().bits(0xFF));
            while (*esp32p4::HP_SYS::ptr()).cpu_corestalled_st().read().reg_core1_corestalled_st().bit_is_set() {}
        }
    }

    fn serial_write(bytes: &[u8]) {
        with_core0(|l| {
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
        with_core0(|l| {
            if let Ok(b) = l.usb.read_byte() {
                l.usb_stalled = false;
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
        loop {
            core::hint::spin_loop();
        }
    }
}

/// Best-effort write to the USB-Serial-JTAG, as on the ESP32-C3 board crate.
fn usb_write(l: &mut Core0, bytes: &[u8]) {
    for &b in bytes {
        if l.usb.write_byte_nb(b).is_ok() {
            continue;
        }
        if l.usb_stalled {
            return;
        }
        let _ = l.usb.flush_tx_nb();
        let start = cycles();
        while l.usb.write_byte_nb(b).is_err() {
            if cycles().wrapping_sub(start) > USB_STALL_CYCLES {
                l.usb_stalled = true;
                return;
            }
        }
    }
    let _ = l.usb.flush_tx_nb();
}

/// Called once by core 0 before anything else: CPU at 400 MHz (watchdogs off: esp-hal's
/// `init`), UART0 and the USB-Serial-JTAG up.
pub fn init() {
    let p = esp_hal::init(esp_hal::Config::default().with_cpu_clock(CpuClock::_400MHz));
    let uart = match Uart::new(p.UART0, uart::Config::default().with_baudrate(BAUD)) {
        Ok(u) => u.with_tx(p.GPIO37).with_rx(p.GPIO38),
        Err(_) => Esp32p4::exit(1), // a fixed, valid configuration: cannot happen
    };
    let usb = UsbSerialJtag::new(p.USB_DEVICE);
    // SAFETY: see `Core0Cell`; nothing reads it before this.
    unsafe { *CORE0.0.get() = Some(Core0 { uart, usb, usb_stalled: false }) };
}

/// Define the firmware's entry, called by esp-riscv-rt on core 0 once memory is set up:
/// `init`, then `app(0)`; the ESP-IDF application descriptor; the panic handler.
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
    arielml_runtime::fault::panic::<Esp32p4>(info)
}
