//! The Hazard3 side of the board (RISC-V mode, riscv32imac): IMAGE_DEF for a RISC-V
//! executable with its entry point, core 1's entry, events, the exception trap and the
//! firmware's entry macro. riscv-rt 0.18 starts core 0 (the workspace's riscv-rt, not the
//! 0.12 rp235x-hal brings); core 1 never runs riscv-rt's `_start`: the boot ROM launches it
//! straight into `_arielml_core1_start` with mtvec, stack and entry from the launch
//! handshake (core 0's mtvec, riscv-rt's stack slot of hart 1).

use super::core1_main;

// The boot ROM block (RP2350 datasheet, "Blocks and block loops", "IMAGE_DEF"): IMAGE_TYPE
// (0x42, one word) with flags EXE (0x0001) | secure (0x0020) | RISC-V (0x0100) | RP2350
// (0x1000); ENTRY_POINT (0x44, three words: the item, initial pc, initial sp), because
// arielml's memory.x puts this block at the start of flash and riscv-rt's `_start` after
// it; LAST (0xff) with the four words of items before it; the loop offset 0 (this block
// alone); end marker. arielml's memory.x keeps `IMAGE_DEF` (EXTERN) in `.start_block`.
core::arch::global_asm!(
    r#".section .start_block, "a"
    .balign 4
    .global IMAGE_DEF
IMAGE_DEF:
    .word 0xffffded3
    .word (0x1121 << 16) | (1 << 8) | 0x42
    .word (3 << 8) | 0x44
    .word _start
    .word _stack_start
    .word (4 << 8) | 0xff
    .word 0
    .word 0xab123579

    .section .text.arielml_core1, "ax"
    .balign 4
    .global _arielml_core1_start
_arielml_core1_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    call arielml_rp2350_core1
"#
);

extern "C" {
    fn _arielml_core1_start();
    /// riscv-rt's top of the stacks; hart k's stack ends `_hart_stack_size` * k below it.
    static _stack_start: u8;
    /// An absolute symbol: its address is its value (the board file's `stack_bytes`).
    static _hart_stack_size: u8;
}

#[no_mangle]
extern "C" fn arielml_rp2350_core1() -> ! {
    core1_main()
}

pub(crate) fn init_core() {}

pub(crate) fn before_launch() {}

pub(crate) fn nop() {
    // SAFETY: no effect.
    unsafe { core::arch::asm!("nop") };
}

/// Hazard3's h3.block hint (`slt x0, x0, x0`): sleep until the other core's h3.unblock or
/// an interrupt, as WFE on the Arm cores.
pub(crate) fn wait_event() {
    // SAFETY: a hint: at most a sleep.
    unsafe { core::arch::asm!("slt x0, x0, x0") };
}

/// Hazard3's h3.unblock hint (`slt x0, x0, x1`): wakes the other core, as SEV.
pub(crate) fn send_event() {
    // SAFETY: a hint with no architectural effect.
    unsafe { core::arch::asm!("slt x0, x0, x1") };
}

pub(crate) fn fence() {
    core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
}

/// This core's mtvec (set by riscv-rt): core 1 takes the same trap vector.
pub(crate) fn vector_table() -> u32 {
    let v: u32;
    // SAFETY: reading a CSR.
    unsafe { core::arch::asm!("csrr {0}, mtvec", out(reg) v) };
    v
}

/// The top of riscv-rt's stack for hart 1 (`_max_hart_id` = 1 in arielml's memory.x).
pub(crate) fn core1_stack_top() -> u32 {
    // SAFETY: addresses of linker symbols only, never read.
    unsafe { (core::ptr::addr_of!(_stack_start) as u32) - (core::ptr::addr_of!(_hart_stack_size) as u32) }
}

pub(crate) fn core1_entry() -> u32 {
    _arielml_core1_start as usize as u32
}

/// Define the firmware's reset entry: `init`, then `app(0)` on core 0 (which may
/// start the other cores into `app`).
#[macro_export]
macro_rules! entry {
    ($app:path) => {
        #[$crate::riscv_rt::entry]
        fn main() -> ! {
            $crate::init();
            $app(0)
        }

        #[panic_handler]
        fn panic(info: &core::panic::PanicInfo) -> ! {
            $crate::panic(info)
        }
    };
}

/// Both cores' exception trap (riscv-rt's, through the mtvec core 1 shares): one line
/// naming the core, its task, the cause and the faulting pc, then exit status 102.
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
    arielml_runtime::fault::fault::<super::Rp2350>(what, riscv::register::mepc::read())
}
