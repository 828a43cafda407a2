//! Board support for the Spike RISC-V ISA simulator (32-bit, N harts: `spike -p N`).
//!
//! Spike's machine is close to QEMU virt's: every hart starts at the ELF entry together
//! (through Spike's boot ROM, `a0` = mhartid), the CLINT is at 0x0200_0000 and its NS16550
//! UART at 0x1000_0000 (its receiver only fills once the FIFO is enabled in FCR). Unlike
//! QEMU it has no SiFive test device: the run ends through HTIF, a write of
//! `(status << 1) | 1` to the `tohost` word that Spike finds by its ELF symbol.
//! Spike advances mtime by 50 ticks after each round-robin pass in which every hart ran
//! 5,000 instructions (riscv/sim.cc, INTERLEAVE / INSNS_PER_RTC_TICK): mtime is wall time
//! at one instruction per cycle and 1 GHz, the same for all harts, so a timer read on N
//! harts shows parallel time (QEMU's icount adds up all harts' instructions).
//! Harts start as on QEMU virt: `_mp_hook` keeps harts 1.. asleep until hart 0 has
//! initialised RAM and sends them a CLINT software interrupt.
#![no_std]

pub use arielml_runtime as runtime;
pub use riscv_rt;

use core::ptr::{read_volatile, write_volatile};
use core::sync::atomic::{fence, Ordering};

use arielml_runtime::board::Board;

/// CLINT mtime's rate on Spike (its device tree's timebase-frequency); the board file's
/// `counter_hz` must say the same.
const MTIME_HZ: u32 = 10_000_000;
const _: () = assert!(arielml_runtime::board_fact!("COUNTER_HZ") == MTIME_HZ, "counter_hz: Spike's mtime runs at 10 MHz");

/// Harts the firmware starts: the board file's cores (its `spike.harts` must match).
pub const HARTS: usize = arielml_runtime::board_fact!("CORES") as usize;

const UART_THR: *mut u8 = 0x1000_0000 as *mut u8;
const UART_RBR: *const u8 = 0x1000_0000 as *const u8;
const UART_FCR: *mut u8 = 0x1000_0002 as *mut u8;
const UART_LSR: *const u8 = 0x1000_0005 as *const u8;
const FCR_ENABLE_FIFO: u8 = 1 << 0;
const LSR_DATA_READY: u8 = 1 << 0;
const LSR_THR_EMPTY: u8 = 1 << 5;
const CLINT_MSIP: *mut u32 = 0x0200_0000 as *mut u32;
const CLINT_MTIME: *const u32 = 0x0200_BFF8 as *const u32;
/// CLINT mtimecmp, one 64-bit word per hart (low word first).
const CLINT_MTIMECMP: *mut u32 = 0x0200_4000 as *mut u32;
const CLINT_MTIME_HI: *const u32 = 0x0200_BFFC as *const u32;

/// HTIF's words: Spike polls `tohost` between its passes over the harts (and clears it);
/// `fromhost` must exist for Spike to use either. 64-bit words, 8-byte aligned.
#[no_mangle]
#[used]
#[allow(non_upper_case_globals)]
static mut tohost: u64 = 0;
#[no_mangle]
#[used]
#[allow(non_upper_case_globals)]
static mut fromhost: u64 = 0;

static mut HART_ENTRY: Option<fn(usize) -> !> = None;

// Harts other than 0 wait here, before riscv-rt touches RAM, for hart 0's software
// interrupt. mie.MSIE lets `wfi` wake on it while interrupts stay globally disabled.
core::arch::global_asm!(
    r#".section .init.mp_hook, "ax"
    .global _mp_hook
_mp_hook:
    beqz a0, 2f
    li t0, 8
    csrs mie, t0
1:  wfi
    csrr t0, mip
    andi t0, t0, 8
    beqz t0, 1b
    li t0, 0x02000000
    slli t1, a0, 2
    add t0, t0, t1
    sw zero, 0(t0)
    fence rw, rw
    li a0, 0
    ret
2:  li a0, 1
    ret
"#
);

pub struct Spike;

/// The board type under the name every board crate exports (used by generated crates).
pub type ThisBoard = Spike;

impl Board for Spike {
    const NAME: &'static str = arielml_runtime::board_name!();
    const CORES: usize = HARTS;
    /// CLINT mtime: 10 MHz on Spike, one tick per 100 instructions of each hart.
    const COUNTER_HZ: u32 = MTIME_HZ;

    fn core_id() -> usize {
        riscv::register::mhartid::read()
    }

    fn start_other_cores(entry: fn(usize) -> !) {
        // SAFETY: the other harts sleep in `_mp_hook` until the interrupts below.
        unsafe { HART_ENTRY = Some(entry) };
        fence(Ordering::SeqCst);
        for hart in 1..HARTS {
            // SAFETY: CLINT msip registers, one word per hart.
            unsafe { write_volatile(CLINT_MSIP.add(hart), 1) };
        }
    }

    fn serial_write(bytes: &[u8]) {
        for &b in bytes {
            // SAFETY: the NS16550 registers are always mapped on Spike.
            unsafe {
                while read_volatile(UART_LSR) & LSR_THR_EMPTY == 0 {}
                write_volatile(UART_THR, b);
            }
        }
    }

    fn serial_read() -> Option<u8> {
        // SAFETY: as in `serial_write`.
        unsafe { (read_volatile(UART_LSR) & LSR_DATA_READY != 0).then(|| read_volatile(UART_RBR)) }
    }

    fn counter() -> u32 {
        // SAFETY: the low word of mtime, always mapped.
        unsafe { read_volatile(CLINT_MTIME) }
    }

    /// Sleep until another hart's `signal` (a machine software interrupt through the
    /// CLINT). The pending bit stays set until cleared here, after waking, so a signal
    /// sent between the caller's check and the `wfi` is never lost: `wfi` returns at once.
    /// Interrupts stay globally disabled; mie.MSIE only lets `wfi` wake on it.
    fn wait_for_signal() {
        let hart = riscv::register::mhartid::read();
        // SAFETY: setting MSIE in mie enables no trap (mstatus.MIE stays 0); `wfi` then
        // clearing this hart's own msip word are side-effect free otherwise.
        unsafe {
            core::arch::asm!("csrs mie, {0}", "wfi", in(reg) 8usize);
            write_volatile(CLINT_MSIP.add(hart), 0);
        }
        fence(Ordering::SeqCst);
    }

    /// `wait_for_signal`, also woken by this hart's CLINT timer compare `ticks` from now
    /// (mie.MTIE, still no trap); the compare is parked at its maximum again afterwards.
    fn wait_for_signal_or_timeout(ticks: u32) {
        let hart = riscv::register::mhartid::read();
        let cmp = CLINT_MTIMECMP.wrapping_add(2 * hart);
        let at = mtime().saturating_add(u64::from(ticks));
        // SAFETY: this hart's own mtimecmp (low word, high word); MSIE/MTIE in mie enable
        // no trap while mstatus.MIE stays 0; `wfi` and clearing msip as in `wait_for_signal`.
        unsafe {
            write_volatile(cmp.add(1), u32::MAX);
            write_volatile(cmp, at as u32);
            write_volatile(cmp.add(1), (at >> 32) as u32);
            core::arch::asm!("csrs mie, {0}", "wfi", in(reg) 8usize | 128);
            write_volatile(cmp, u32::MAX);
            write_volatile(cmp.add(1), u32::MAX);
            core::arch::asm!("csrc mie, {0}", in(reg) 128usize);
            write_volatile(CLINT_MSIP.add(hart), 0);
        }
        fence(Ordering::SeqCst);
    }

    fn signal() {
        fence(Ordering::SeqCst);
        let me = riscv::register::mhartid::read();
        for hart in (0..HARTS).filter(|&h| h != me) {
            // SAFETY: CLINT msip registers, one word per hart.
            unsafe { write_volatile(CLINT_MSIP.add(hart), 1) };
        }
    }

    /// HTIF exit: `(status << 1) | 1` in `tohost` (device 0, command 0); Spike exits
    /// with `status` at its next poll. The high word (0) is written before the low one, so
    /// Spike never sees half a command.
    fn exit(code: i32) -> ! {
        let word = ((code as u32) << 1) | 1;
        let to = core::ptr::addr_of_mut!(tohost) as *mut u32;
        loop {
            // SAFETY: `tohost` is ours and 8-byte aligned; Spike reads it between passes.
            unsafe {
                write_volatile(to.add(1), 0);
                write_volatile(to, word);
            }
            fence(Ordering::SeqCst);
        }
    }
}

/// The whole 64-bit mtime (high word re-read until it did not change under the low one).
fn mtime() -> u64 {
    loop {
        // SAFETY: the CLINT's mtime words, always mapped.
        let (hi, lo, again) = unsafe { (read_volatile(CLINT_MTIME_HI), read_volatile(CLINT_MTIME), read_volatile(CLINT_MTIME_HI)) };
        if hi == again {
            return (u64::from(hi) << 32) | u64::from(lo);
        }
    }
}

/// Entry of a hart released by hart 0 (called from the firmware's `main`).
pub fn secondary(hart: usize) -> ! {
    // SAFETY: written by hart 0 before it released this hart, never written again.
    match unsafe { *core::ptr::addr_of!(HART_ENTRY) } {
        Some(f) => f(hart),
        None => Spike::exit(70),
    }
}

/// Turn on the UART's receive FIFO (Spike's NS16550 takes no input before), once, by hart 0.
pub fn init() {
    // SAFETY: the NS16550 registers are always mapped on Spike.
    unsafe { write_volatile(UART_FCR, FCR_ENABLE_FIFO) };
}

/// Define the firmware's reset entry: hart 0 turns the UART's receiver on and runs
/// `app(0)` (which may start the other harts); the others, once woken, run `app(hart)`.
#[macro_export]
macro_rules! entry {
    ($app:path) => {
        #[$crate::riscv_rt::entry]
        fn main(hart: usize) -> ! {
            if hart == 0 {
                $crate::init();
                $app(0)
            } else {
                $crate::secondary(hart)
            }
        }

        #[panic_handler]
        fn panic(info: &core::panic::PanicInfo) -> ! {
            $crate::panic(info)
        }
    };
}

/// Report a panic in one line naming the hart and task, and end the run with status 101.
pub fn panic(info: &core::panic::PanicInfo) -> ! {
    arielml_runtime::fault::panic::<Spike>(info)
}

/// Every hart's exception trap (riscv-rt calls it for any synchronous exception): one
/// line naming the hart, its task, the cause and the faulting pc, then exit status 102.
#[export_name = "ExceptionHandler"]
fn exception_handler(_frame: &riscv_rt::TrapFrame) -> ! {
    const CAUSES: [&str; 8] = [
        "instruction address misaligned",
        "instruction access fault",
        "illegal instruction",
        "breakpoint",
        "load address misaligned",
        "load access fault",
        "store address misaligned",
        "store access fault",
    ];
    use riscv::register::mcause::{self, Trap};
    let what = match mcause::read().cause() {
        Trap::Exception(code) => CAUSES.get(code).copied().unwrap_or("exception"),
        Trap::Interrupt(_) => "unexpected interrupt",
    };
    arielml_runtime::fault::fault::<Spike>(what, riscv::register::mepc::read())
}
