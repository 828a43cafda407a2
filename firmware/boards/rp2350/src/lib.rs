//! Board support for the Raspberry Pi RP2350 in Arm mode (2x Cortex-M33), as on a Raspberry
//! Pi Pico 2.
//!
//! The RP2350 boot ROM runs no second-stage bootloader: it searches the first 4 KiB of
//! flash for a block loop and boots the image its IMAGE_DEF block describes. `IMAGE_DEF`
//! below (an Arm, secure-mode executable, as rp235x-hal's `ImageDef::secure_exe()`) is in
//! `.start_block`, which arielml's memory.x (board field `start_block`) places right after
//! cortex-m-rt's vector table at 0x1000_0000, the table the boot ROM then starts from.
//!
//! Startup is cortex-m-rt's on core 0 (which enables the FPU: the target is eabihf).
//! `init` brings the system clock to 150 MHz from the 12 MHz crystal, UART0 up on GPIO0 (TX)
//! / GPIO1 (RX) at 115200 8N1 and the 1 MHz TIMER0. Core 1 is started with the boot ROM's
//! FIFO handshake on a static stack. The serial link is UART0 (not USB-CDC yet): a Pico 2
//! needs a USB-serial adapter (or a Debug Probe) on pins 1/2. A real board has no exit:
//! `exit` parks the core.
//!
//! This crate uses rp235x-pac directly, not rp235x-hal: every rp235x-hal release depends
//! (for its RISC-V target) on riscv-rt 0.12, which cannot share the workspace's resolve
//! with the riscv-virt board's riscv-rt 0.18 (both declare `links = "riscv-rt"`). The
//! IMAGE_DEF words, the core 1 launch and the clock set-up follow rp235x-hal 0.4
//! (`block`, `multicore`, `clocks::init_clocks_and_plls`) and the RP2350 datasheet.
//!
//! The serial lock is the runtime's default spin lock on an atomic compare-and-swap: the
//! M33 has LDREX/STREX, and both cores set ACTLR.EXTEXCLALL (as rp235x-hal does) so that
//! exclusives are coherent between them. The SIO hardware spinlocks are not used (the
//! Pico SDK, too, uses software spin locks on the RP2350, because of erratum RP2350-E2).
#![no_std]

pub use arielml_runtime as runtime;
#[cfg(target_arch = "arm")]
pub use cortex_m_rt;
#[cfg(target_arch = "riscv32")]
pub use riscv_rt;
pub use rp235x_pac as pac;

use core::ptr::{addr_of, addr_of_mut};

use arielml_runtime::board::Board;

#[cfg(target_arch = "arm")]
#[path = "arm.rs"]
mod arch;
#[cfg(target_arch = "riscv32")]
#[path = "riscv.rs"]
mod arch;

/// The Pico 2's crystal.
const XOSC_HZ: u32 = 12_000_000;
/// System clock: the RP2350's nominal 150 MHz, 12 MHz * 125 / 5 / 2 (VCO 1500 MHz), as
/// rp235x-hal's `PLL_SYS_150MHZ`.
pub const SYS_HZ: u32 = 150_000_000;
const PLL_SYS_FBDIV: u16 = 125;
const PLL_SYS_POSTDIV1: u8 = 5;
const PLL_SYS_POSTDIV2: u8 = 2;
const BAUD: u32 = arielml_runtime::board_fact!("SERIAL_BAUD");
const _: () = assert!(arielml_runtime::board_fact!("CORES") == 2, "the RP2350 has two cores");
const _: () = assert!(arielml_runtime::board_fact!("COUNTER_HZ") == 1_000_000, "counter_hz: TIMER0 counts microseconds");

pub struct Rp2350;

/// The board type under the name every board crate exports (used by generated crates).
pub type ThisBoard = Rp2350;

static mut CORE1_ENTRY: Option<fn(usize) -> !> = None;
static mut CORE1_STARTED: bool = false;

fn sio() -> &'static pac::sio::RegisterBlock {
    // SAFETY: SIO is per-core and always clocked; every access below is a plain register
    // read or write that no other owner depends on.
    unsafe { &*pac::SIO::ptr() }
}

/// Core 0's side of the SIO FIFO, for the boot ROM's launch handshake (runtime `launch`).
struct SioFifo;

impl arielml_runtime::launch::Fifo for SioFifo {
    fn readable(&mut self) -> bool {
        sio().fifo_st().read().bits() & 0b01 != 0 // VLD: a word waiting
    }
    fn read(&mut self) -> u32 {
        while !self.readable() {
            arch::wait_event();
        }
        sio().fifo_rd().read().bits()
    }
    fn write(&mut self, word: u32) {
        while sio().fifo_st().read().bits() & 0b10 == 0 {} // RDY: room in the TX FIFO
        sio().fifo_wr().write(|w| unsafe { w.bits(word) });
        arch::send_event();
    }
    fn wake(&mut self) {
        arch::send_event();
    }
}

impl Board for Rp2350 {
    const NAME: &'static str = arielml_runtime::board_name!();
    const CORES: usize = 2;

    /// TIMER0 counts microseconds (its tick, from the 12 MHz crystal).
    const COUNTER_HZ: u32 = 1_000_000;

    fn core_id() -> usize {
        sio().cpuid().read().bits() as usize
    }

    fn start_other_cores(entry: fn(usize) -> !) {
        // SAFETY: core 0 only, once: core 1 waits in the boot ROM until the handshake below
        // and reads these statics only after it.
        unsafe {
            if *addr_of!(CORE1_STARTED) {
                return;
            }
            *addr_of_mut!(CORE1_STARTED) = true;
            *addr_of_mut!(CORE1_ENTRY) = Some(entry);
        }
        arch::before_launch();
        // Reset core 1 into the boot ROM's wait-for-launch loop (rp235x-hal's `spawn`).
        let psm = unsafe { &*pac::PSM::ptr() };
        psm.frce_off().modify(|_, w| w.proc1().set_bit());
        while psm.frce_off().read().proc1().bit_is_clear() {
            arch::nop();
        }
        psm.frce_off().modify(|_, w| w.proc1().clear_bit());
        // The boot ROM's launch sequence with this core's vector table (Arm: VTOR; RISC-V:
        // mtvec), core 1's stack and its entry.
        if arielml_runtime::launch::launch_core1(&mut SioFifo, arch::vector_table(), arch::core1_stack_top(),
                                                 arch::core1_entry(), 16).is_err() {
            panic!("core 1 did not start");
        }
    }

    fn serial_write(bytes: &[u8]) {
        // SAFETY: UART0 registers, configured by `init`; writers are serialised by the caller.
        let uart = unsafe { &*pac::UART0::ptr() };
        for &b in bytes {
            while uart.uartfr().read().txff().bit_is_set() {}
            uart.uartdr().write(|w| unsafe { w.data().bits(b) });
        }
    }

    fn serial_read() -> Option<u8> {
        // SAFETY: as above; only core 0 reads.
        let uart = unsafe { &*pac::UART0::ptr() };
        if uart.uartfr().read().rxfe().bit_is_set() {
            None
        } else {
            Some(uart.uartdr().read().data().bits())
        }
    }

    fn counter() -> u32 {
        // SAFETY: TIMERAWL is a read-only view of the free-running microsecond counter.
        unsafe { (*pac::TIMER0::ptr()).timerawl().read().bits() }
    }

    fn wait_for_signal() {
        arch::wait_event();
    }

    fn signal() {
        // SEV (Arm) / h3.unblock (Hazard3) on one RP2350 core wakes the other.
        arch::fence();
        arch::send_event();
    }

    fn exit(_code: i32) -> ! {
        // No host to report to: whatever the firmware had to say went over the serial link.
        loop {
            arch::wait_event();
        }
    }

    // `lock_serial`: the runtime's default (atomic compare-and-swap), see the crate docs.
}

/// Take the peripherals in `mask` (RESETS bit positions) out of reset and wait for them.
fn unreset(mask: u32) {
    // SAFETY: RESETS is only touched here, by core 0 in `init`.
    let resets = unsafe { &*pac::RESETS::ptr() };
    resets.reset().modify(|r, w| unsafe { w.bits(r.bits() & !mask) });
    while resets.reset_done().read().bits() & mask != mask {}
}

// RESETS bit positions (RP2350 datasheet, RESETS: RESET).
const RESET_IO_BANK0: u32 = 1 << 6;
const RESET_PADS_BANK0: u32 = 1 << 9;
const RESET_PLL_SYS: u32 = 1 << 14;
const RESET_TIMER0: u32 = 1 << 23;
const RESET_UART0: u32 = 1 << 26;

/// Called once by core 0 before anything else: clocks, serial and timer on.
pub fn init() {
    arch::init_core();
    // SAFETY: core 0, first thing after reset; nothing else uses these blocks yet.
    let (xosc, clocks, pll, ticks, uart, io, pads) = unsafe {
        (&*pac::XOSC::ptr(), &*pac::CLOCKS::ptr(), &*pac::PLL_SYS::ptr(), &*pac::TICKS::ptr(),
         &*pac::UART0::ptr(), &*pac::IO_BANK0::ptr(), &*pac::PADS_BANK0::ptr())
    };

    // Crystal: 1-15 MHz range, start-up delay of 1 ms x 64 (rp235x-hal's default), enable.
    xosc.ctrl().write(|w| unsafe { w.bits(0xaa0) }); // FREQ_RANGE = 1_15MHZ
    let delay = (XOSC_HZ / 1000).div_ceil(256) * 64;
    xosc.startup().write(|w| unsafe { w.bits(delay) });
    xosc.ctrl().write(|w| unsafe { w.bits((0xfab << 12) | 0xaa0) }); // ENABLE
    while xosc.status().read().bits() & (1 << 31) == 0 {} // STABLE

    // Off the PLL before touching it: clk_sys from clk_ref, clk_ref from the ring oscillator.
    clocks.clk_sys_resus_ctrl().write(|w| unsafe { w.bits(0) });
    clocks.clk_sys_ctrl().modify(|r, w| unsafe { w.bits(r.bits() & !1) }); // SRC = clk_ref
    while clocks.clk_sys_selected().read().bits() & 1 == 0 {}
    clocks.clk_ref_ctrl().modify(|r, w| unsafe { w.bits(r.bits() & !3) }); // SRC = ROSC
    while clocks.clk_ref_selected().read().bits() & 1 == 0 {}

    // PLL_SYS: 12 MHz / 1 * 125 = 1500 MHz VCO, / 5 / 2 = 150 MHz.
    // SAFETY: RESETS, core 0 only.
    unsafe { (*pac::RESETS::ptr()).reset().modify(|r, w| w.bits(r.bits() | RESET_PLL_SYS)) };
    unreset(RESET_PLL_SYS);
    pll.cs().write(|w| unsafe { w.bits(1) }); // REFDIV = 1
    pll.fbdiv_int().write(|w| unsafe { w.bits(PLL_SYS_FBDIV as u32) });
    pll.pwr().modify(|r, w| unsafe { w.bits(r.bits() & !((1 << 0) | (1 << 5))) }); // PD, VCOPD off
    while pll.cs().read().bits() & (1 << 31) == 0 {} // LOCK
    pll.prim().write(|w| unsafe {
        w.bits(((PLL_SYS_POSTDIV1 as u32) << 16) | ((PLL_SYS_POSTDIV2 as u32) << 12))
    });
    pll.pwr().modify(|r, w| unsafe { w.bits(r.bits() & !(1 << 3)) }); // POSTDIVPD off

    // clk_ref = XOSC / 1; clk_sys = PLL_SYS / 1 (through the glitchless aux mux);
    // clk_peri = clk_sys, on (it clocks the UART).
    clocks.clk_ref_div().write(|w| unsafe { w.bits(1 << 16) });
    clocks.clk_ref_ctrl().modify(|r, w| unsafe { w.bits((r.bits() & !3) | 2) }); // SRC = XOSC
    while clocks.clk_ref_selected().read().bits() & (1 << 2) == 0 {}
    clocks.clk_sys_div().write(|w| unsafe { w.bits(1 << 16) });
    clocks.clk_sys_ctrl().modify(|r, w| unsafe { w.bits(r.bits() & !(7 << 5)) }); // AUXSRC = PLL_SYS
    clocks.clk_sys_ctrl().modify(|r, w| unsafe { w.bits(r.bits() | 1) }); // SRC = aux
    while clocks.clk_sys_selected().read().bits() & (1 << 1) == 0 {}
    clocks.clk_peri_ctrl().write(|w| unsafe { w.bits(0) }); // AUXSRC = clk_sys, off
    clocks.clk_peri_div().write(|w| unsafe { w.bits(1 << 16) });
    clocks.clk_peri_ctrl().write(|w| unsafe { w.bits(1 << 11) }); // ENABLE

    // 1 us ticks from clk_ref (12 MHz) for every tick consumer, TIMER0's among them, as
    // rp235x-hal's `Watchdog::enable_tick_generation`.
    for tick in ticks.tick_iter() {
        tick.cycles().write(|w| unsafe { w.bits(XOSC_HZ / 1_000_000) });
        tick.ctrl().write(|w| unsafe { w.bits(1) });
    }
    // SAFETY: RESETS, core 0 only. A fresh TIMER0 counts from 0.
    unsafe { (*pac::RESETS::ptr()).reset().modify(|r, w| w.bits(r.bits() | RESET_TIMER0 | RESET_UART0)) };
    unreset(RESET_IO_BANK0 | RESET_PADS_BANK0 | RESET_TIMER0 | RESET_UART0);

    // GPIO0 = UART0 TX, GPIO1 = UART0 RX: input on, output not disabled, function 2 (UART),
    // then the pad isolation latch off (the RP2350 pads start isolated).
    for pin in 0..2 {
        pads.gpio(pin).modify(|r, w| unsafe { w.bits((r.bits() | (1 << 6)) & !(1 << 7)) }); // IE, !OD
        io.gpio(pin).gpio_ctrl().write(|w| unsafe { w.bits(2) }); // FUNCSEL = UART
        pads.gpio(pin).modify(|r, w| unsafe { w.bits(r.bits() & !(1 << 8)) }); // ISO off
    }

    // 115200 8N1 from clk_peri = 150 MHz, FIFOs on (the Pico SDK's divisor arithmetic).
    let div = 8 * SYS_HZ / BAUD + 1;
    uart.uartibrd().write(|w| unsafe { w.bits(div >> 7) });
    uart.uartfbrd().write(|w| unsafe { w.bits((div & 0x7f) >> 1) });
    uart.uartlcr_h().write(|w| unsafe { w.bits((0b11 << 5) | (1 << 4)) }); // WLEN 8, FEN
    uart.uartcr().write(|w| unsafe { w.bits((1 << 0) | (1 << 8) | (1 << 9)) }); // UARTEN, TXE, RXE
}

/// Core 1's first Rust code (after its architecture's set-up), on the stack of the launch.
fn core1_main() -> ! {
    // SAFETY: written by core 0 before it started this core, never written again.
    match unsafe { *addr_of!(CORE1_ENTRY) } {
        Some(f) => f(1),
        None => Rp2350::exit(70),
    }
}

/// Report a panic in one line naming the core and task, and end the run with status 101.
pub fn panic(info: &core::panic::PanicInfo) -> ! {
    arielml_runtime::fault::panic::<Rp2350>(info)
}

