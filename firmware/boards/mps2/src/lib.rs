//! Board support for Arm's MPS2 FPGA image AN521 (two Cortex-M33) as QEMU emulates it.
//!
//! Startup is cortex-m-rt's on core 0. Core 1 is held in reset by the SSE-200 system
//! control block until core 0 gives it a vector table (INITSVTOR1) and clears CPUWAIT.
//! The serial link is CMSDK UART0; the run ends through semihosting's extended exit,
//! which carries a status code to the QEMU process.
#![no_std]

pub use arielml_runtime as runtime;
pub use cortex_m_rt;

mod uart;

use core::ptr::{addr_of, addr_of_mut, write_volatile};
use core::sync::atomic::{compiler_fence, Ordering};

use arielml_runtime::board::Board;

/// SSE-200 system control: core 1 initial secure vector table and wait control.
const INITSVTOR1: *mut u32 = 0x5002_1114 as *mut u32;
const CPUWAIT: *mut u32 = 0x5002_1118 as *mut u32;
/// SSE-200 per-core CPU_IDENTITY register: reads as the index of the core reading it.
const CPU_IDENTITY: *const u32 = 0x4001_F000 as *const u32;
/// CMSDK APB TIMER0 (secure), clocked at the 20 MHz system clock; a down-counter.
const TIMER0_CTRL: *mut u32 = 0x5000_0000 as *mut u32;
const TIMER0_VALUE: *const u32 = 0x5000_0004 as *const u32;
const TIMER0_RELOAD: *mut u32 = 0x5000_0008 as *mut u32;
/// Each core has its own System Control Space; the coprocessor access register enables its FPU.
const CPACR: *mut u32 = 0xE000_ED88 as *mut u32;
/// TIMER0's rate: the AN521 system clock. The board file's `counter_hz` must say the same.
const TIMER0_HZ: u32 = 20_000_000;
const _: () = assert!(arielml_runtime::board_fact!("COUNTER_HZ") == TIMER0_HZ, "counter_hz: TIMER0 runs at 20 MHz");
const _: () = assert!(arielml_runtime::board_fact!("CORES") == 2, "the SSE-200 has two cores");

const CORE1_STACK_WORDS: usize = 16 * 1024;

#[repr(C, align(8))]
struct Stack([u32; CORE1_STACK_WORDS]);
static mut CORE1_STACK: Stack = Stack([0; CORE1_STACK_WORDS]);

/// Core 1's vector table: initial SP, reset handler, and core 0's system exception
/// handlers (HardFault above all). INITSVTOR1 ignores the low 7 bits.
#[repr(C, align(128))]
struct VectorTable([u32; 16]);
static mut CORE1_VECTORS: VectorTable = VectorTable([0; 16]);
/// The running core's vector table offset register.
const VTOR: *const u32 = 0xE000_ED08 as *const u32;
static mut CORE1_ENTRY: Option<fn(usize) -> !> = None;

pub struct Mps2An521;

/// The board type under the name every board crate exports (used by generated crates).
pub type ThisBoard = Mps2An521;

impl Board for Mps2An521 {
    const NAME: &'static str = arielml_runtime::board_name!();
    const CORES: usize = arielml_runtime::board_fact!("CORES") as usize;
    /// TIMER0 runs at the AN521 system clock, 20 MHz.
    const COUNTER_HZ: u32 = TIMER0_HZ;

    fn core_id() -> usize {
        // SAFETY: the SSE-200 CPU_IDENTITY block is private to each core and read-only.
        unsafe { core::ptr::read_volatile(CPU_IDENTITY) as usize }
    }

    fn start_other_cores(entry: fn(usize) -> !) {
        // SAFETY: core 1 is still held in reset, so core 0 is the only one touching these.
        unsafe {
            CORE1_ENTRY = Some(entry);
            let top = addr_of_mut!(CORE1_STACK) as usize + CORE1_STACK_WORDS * 4;
            let vectors = &mut (*addr_of_mut!(CORE1_VECTORS)).0;
            let core0 = core::ptr::read_volatile(VTOR) as *const u32;
            for (i, v) in vectors.iter_mut().enumerate().skip(2) {
                *v = core::ptr::read_volatile(core0.add(i));
            }
            vectors[0] = top as u32;
            vectors[1] = core1_reset as usize as u32;
            compiler_fence(Ordering::SeqCst);
            cortex_m::asm::dsb();
            write_volatile(INITSVTOR1, addr_of!(CORE1_VECTORS) as u32);
            write_volatile(CPUWAIT, 0);
        }
    }

    fn start_other_images() {
        extern "C" {
            /// Image 1's vector table (its flash origin), from image 0's generated memory.x.
            static __arielml_image1_vectors: u32;
        }
        // SAFETY: core 1 is still held in reset; only the symbol's address is used.
        unsafe {
            cortex_m::asm::dsb();
            write_volatile(INITSVTOR1, addr_of!(__arielml_image1_vectors) as u32);
            write_volatile(CPUWAIT, 0);
        }
    }

    fn serial_write(bytes: &[u8]) {
        uart::write(bytes);
    }

    fn serial_read() -> Option<u8> {
        uart::read()
    }

    fn counter() -> u32 {
        // SAFETY: TIMER0 registers are always mapped; the timer is started by `init`.
        !unsafe { core::ptr::read_volatile(TIMER0_VALUE) }
    }

    fn wait_for_signal() {
        cortex_m::asm::wfe();
    }

    fn signal() {
        cortex_m::asm::dsb();
        cortex_m::asm::sev();
    }

    fn exit(code: i32) -> ! {
        // SYS_EXIT_EXTENDED (0x20) with ADP_Stopped_ApplicationExit: QEMU exits with `code`.
        let block = [0x2_0026usize, code as u32 as usize];
        loop {
            // SAFETY: a semihosting call with a valid two-word parameter block.
            unsafe { cortex_m_semihosting::syscall(0x20, &block) };
        }
    }
}

/// Called once by core 0 before anything else: serial and timer on.
pub fn init() {
    uart::init();
    // SAFETY: plain MMIO writes to TIMER0, owned by this board crate.
    unsafe {
        write_volatile(TIMER0_RELOAD, u32::MAX);
        write_volatile(TIMER0_CTRL, 1);
    }
}

extern "C" fn core1_reset() -> ! {
    // SAFETY: enabling full access to CP10/CP11 before any floating-point instruction runs.
    unsafe { write_volatile(CPACR, core::ptr::read_volatile(CPACR) | (0xF << 20)) };
    cortex_m::asm::dsb();
    cortex_m::asm::isb();
    core1_main()
}

#[inline(never)]
fn core1_main() -> ! {
    // SAFETY: written by core 0 before it released this core, never written again.
    let entry = unsafe { *addr_of!(CORE1_ENTRY) };
    match entry {
        Some(f) => f(1),
        None => Mps2An521::exit(70),
    }
}

/// Define the firmware's reset entry: on core 0 `init`, then `app(0)` (which may start
/// the other cores into `app`). In a build with one image per core, core 1 boots its own
/// image through this entry too, and goes straight to `app(1)`.
#[macro_export]
macro_rules! entry {
    ($app:path) => {
        #[$crate::cortex_m_rt::entry]
        fn main() -> ! {
            let core = <$crate::ThisBoard as $crate::runtime::board::Board>::core_id();
            if core == 0 {
                $crate::init();
            }
            $app(core)
        }

        #[panic_handler]
        fn panic(info: &core::panic::PanicInfo) -> ! {
            $crate::panic(info)
        }
    };
}

/// Report a panic in one line naming the core and task, and end the run with status 101.
pub fn panic(info: &core::panic::PanicInfo) -> ! {
    arielml_runtime::fault::panic::<Mps2An521>(info)
}

/// Both cores' HardFault (configurable faults escalate to it): one line naming the core,
/// its task and the faulting pc, then exit status 102.
#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    arielml_runtime::fault::fault::<Mps2An521>("HardFault", frame.pc() as usize)
}
