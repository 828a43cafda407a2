//! The Cortex-M33 side of the board (Arm mode): IMAGE_DEF for an Arm secure executable,
//! core 1's entry, events, HardFault, and the firmware's entry macro.

use core::ptr::{addr_of, addr_of_mut};

use super::{core1_main, Rp2350};

/// A boot ROM block (RP2350 datasheet, "Blocks and block loops"): start marker, items,
/// the LAST item (size of the items in words), the offset to the next block of the loop
/// (0: a loop of this block alone), end marker.
#[repr(C)]
pub struct ImageDef {
    words: [u32; 5],
}

const BLOCK_MARKER_START: u32 = 0xffff_ded3;
const BLOCK_MARKER_END: u32 = 0xab12_3579;
/// IMAGE_TYPE item (0x42, one word): EXE (0x0001) | secure (0x0020) | Arm (0x0000) |
/// RP2350 (0x1000), as rp235x-hal's `item_image_type_exe(Secure, Arm)`.
const ITEM_IMAGE_TYPE_ARM_SECURE_EXE: u32 = (0x1021 << 16) | (1 << 8) | 0x42;
/// LAST item (0xff, two-byte size): one word of items before it.
const ITEM_LAST_1: u32 = (1 << 8) | 0xff;

/// Tells the boot ROM that this is an Arm secure-mode executable (vector table at the
/// start of the image, 0x1000_0000). The name is what arielml's memory.x keeps
/// (`EXTERN(IMAGE_DEF)`) in `.start_block`.
#[link_section = ".start_block"]
#[used]
#[no_mangle]
pub static IMAGE_DEF: ImageDef = ImageDef {
    words: [BLOCK_MARKER_START, ITEM_IMAGE_TYPE_ARM_SECURE_EXE, ITEM_LAST_1, 0, BLOCK_MARKER_END],
};

/// Core 1's stack: 16 KiB, as `stack_bytes` in boards/rp2350.toml (u64: 8-byte aligned).
const CORE1_STACK_BYTES: usize = 16 * 1024;
static mut CORE1_STACK: [u64; CORE1_STACK_BYTES / 8] = [0; CORE1_STACK_BYTES / 8];

/// ACTLR.EXTEXCLALL: make exclusive accesses (LDREX/STREX) use the global monitor for all
/// memory, so that atomics work between the cores (the default MPU map marks SRAM
/// non-shareable). Must be set on each core; rp235x-hal does the same in `spawn`.
fn enable_extexclall() {
    // SAFETY: read-modify-write of this core's ACTLR (0xE000_E008), bit 29.
    unsafe {
        let actlr = 0xE000_E008 as *mut u32;
        actlr.write_volatile(actlr.read_volatile() | (1 << 29));
    }
}

/// CPACR: full access to coprocessors 0 (GPIO), 4 (DCP) and 10/11 (FPU), as rp235x-hal's
/// `enable_coprocessors`. cortex-m-rt enables the FPU on core 0 only.
fn enable_coprocessors() {
    // SAFETY: read-modify-write of this core's CPACR (0xE000_ED88).
    unsafe {
        let cpacr = 0xE000_ED88 as *mut u32;
        cpacr.write_volatile(cpacr.read_volatile() | 3 | (3 << 8) | (3 << 20) | (3 << 22));
    }
    cortex_m::asm::dsb();
    cortex_m::asm::isb();
}

/// Per-core set-up, first thing on each core.
pub(crate) fn init_core() {
    enable_coprocessors();
    enable_extexclall();
}

pub(crate) fn before_launch() {
    enable_extexclall();
}

pub(crate) fn nop() {
    cortex_m::asm::nop();
}

pub(crate) fn wait_event() {
    cortex_m::asm::wfe();
}

pub(crate) fn send_event() {
    cortex_m::asm::sev();
}

pub(crate) fn fence() {
    cortex_m::asm::dsb();
}

/// VTOR (0xE000_E008) reads as this core's vector table: core 1 gets the same.
pub(crate) fn vector_table() -> u32 {
    // SAFETY: a read of this core's VTOR.
    unsafe { (0xE000_ED08 as *const u32).read_volatile() }
}

pub(crate) fn core1_stack_top() -> u32 {
    (addr_of_mut!(CORE1_STACK) as usize + CORE1_STACK_BYTES) as u32
}

pub(crate) fn core1_entry() -> u32 {
    core1_start as usize as u32
}

/// Core 1's first code, entered from the boot ROM with the stack of the launch sequence.
extern "C" fn core1_start() -> ! {
    init_core();
    // SAFETY: MSPLIM (stack limit) at the bottom of core 1's static stack.
    unsafe { cortex_m::register::msplim::write(addr_of!(CORE1_STACK) as u32) };
    core1_main()
}

/// Define the firmware's reset entry: `init`, then `app(0)` on core 0 (which may
/// start the other cores into `app`).
#[macro_export]
macro_rules! entry {
    ($app:path) => {
        #[$crate::cortex_m_rt::entry]
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

/// Both cores' HardFault (configurable faults escalate to it): one line naming the core,
/// its task and the faulting pc, then exit status 102.
#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    arielml_runtime::fault::fault::<Rp2350>("HardFault", frame.pc() as usize)
}
