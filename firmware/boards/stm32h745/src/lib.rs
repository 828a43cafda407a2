//! Board support for the ST STM32H745 (RM0399), as on a NUCLEO-H745ZI-Q: a Cortex-M7
//! (CPU1, core 0) and a Cortex-M4 (CPU2, core 1) that boot separate images.
//!
//! The crate is built twice, once per image: feature `cm7` for image 0 (flash bank 1,
//! private RAM in the DTCM) and feature `cm4` for image 1 (flash bank 2, private RAM in D2
//! SRAM1-3); boards/stm32h745.toml passes the feature and holds the memory map. The images
//! share only the block that the generated crate places at the start of the AXI SRAM.
//!
//! Start-up. Each core runs cortex-m-rt's reset handler from its own vector table (the M7
//! from BOOT_CM7_ADD0 = 0x0800_0000, the M4 from BOOT_CM4_ADD0 = 0x0810_0000, the option
//! bytes' defaults), which initialises that image's own RAM and enables its FPU.
//! - The M7 (`init_cm7`) configures power, flash wait states, clocks, USART3 and TIM2, then
//!   `app(0)`: the generated code zeroes and publishes the shared block, calls
//!   `start_other_images` and serves the host.
//! - The M4 may be running from reset (option bit BCM4 = 1, the default) or held until the
//!   M7 sets RCC_GCR.BOOT_C2 (BCM4 = 0). Either way it waits in `init_cm4` until BOOT_C2 is
//!   set, which `start_other_images` does only after the shared block is published. The
//!   gate matters: a system reset clears RCC_GCR (reset value 0) but not the AXI SRAM, so
//!   after a reset without power loss the M4 would otherwise find the previous run's READY
//!   word and run stale tables while the M7 re-initialises the block. Then `app(1)`.
//!
//! Clocks (Nucleo-H745ZI-Q): VCORE comes from the on-chip SMPS directly (UM2408 default
//! solder bridges; PWR_CR3 = SMPS on, LDO off). Direct SMPS supply allows VOS1 at most
//! (VOS0, needed for 480 MHz, requires the LDO), so: PLL1 from the ST-LINK's 8 MHz MCO
//! (HSE bypass; HSI 64 MHz if it never becomes ready), 4 MHz reference, VCO 800 MHz,
//! P = 400 MHz for the M7; HCLK = AXI = 200 MHz, which is also the M4's clock; APB1-4 at
//! 100 MHz; flash 2 wait states, programming delay 2 (RM0399 table for VOS1, 185-210 MHz).
//! A board wired for the LDO needs `PWR_CR3` written differently: a supply configuration
//! the board is not wired for leaves VCORE unsupplied, and the chip must then be recovered
//! through the BOOT0 pin (RM0399, "Power supply configuration").
//!
//! Memory coherence. Both cores read and write the shared block in the AXI SRAM. The M4 has
//! no data cache and reaches the AXI SRAM through the D2-to-D1 AHB bus and the AXI bus
//! matrix (RM0399, "System architecture"). The M7's L1 data cache stays OFF: cortex-m-rt
//! does not enable it and neither does this crate, so every M7 load and store of the shared
//! block goes to the AXI SRAM, and the executor's Release/Acquire atomics (DMB) plus the DSB
//! in `signal` order them for the other core. Enabling the D-cache would need an MPU region
//! making the shared block non-cacheable first. Only instruction caches are on: the M7's
//! I-cache and the M4's ART accelerator (for bank 2), which never hold shared data.
//!
//! Waiting. Each core's SEV reaches the other core as an interrupt line of its NVIC
//! (CM7_SEV_IT, position 64 on the M4; CM4_SEV_IT, position 65 on the M7). Those stay
//! disabled; with SCR.SEVONPEND set, their becoming pending wakes WFE, and
//! `wait_for_signal` clears the pending bit again so that the next SEV wakes it too. As a
//! safety net against a lost event, a 1 kHz SysTick interrupt on each core ends any WFE
//! within a millisecond; callers re-check their condition after every wake-up.
//!
//! Counter: TIM2 (32-bit, APB1), started by the M7 at 200 MHz and read by both cores, so
//! the per-task ticks of both cores are on one time base.
//!
//! Serial: USART3 on PD8 (TX) / PD9 (RX), AF7, the ST-LINK virtual COM port of Nucleo-144
//! boards, 115200 8N1. Only the M7 serves the host; the M4 writes to it only when it panics.
//! A real board has no exit: `exit` parks the core.
#![no_std]

#[cfg(all(feature = "cm7", feature = "cm4"))]
compile_error!("arielml-board-stm32h745: enable exactly one of the features `cm7` (image 0) and `cm4` (image 1)");
#[cfg(not(any(feature = "cm7", feature = "cm4")))]
compile_error!("arielml-board-stm32h745: enable the feature `cm7` (image 0) or `cm4` (image 1)");

pub use arielml_runtime as runtime;
pub use cortex_m_rt;
#[cfg(feature = "cm4")]
pub use stm32h7::stm32h745cm4 as pac;
#[cfg(feature = "cm7")]
pub use stm32h7::stm32h745cm7 as pac;

use arielml_runtime::board::Board;
use cortex_m::peripheral::syst::SystClkSource;

#[cfg(feature = "cm7")]
mod side {
    /// The executor's index of the core this image runs on.
    pub const CORE: usize = 0;
    /// CPUID.PARTNO of the core this image is for (Arm Cortex-M7).
    pub const PARTNO: u32 = 0xC27;
    pub const CORE_HZ: u32 = super::SYS_HZ;
    /// The other core's SEV, as seen by this core's NVIC.
    pub const OTHER_SEV: super::pac::Interrupt = super::pac::Interrupt::CM4_SEV_IT;
}

#[cfg(feature = "cm4")]
mod side {
    pub const CORE: usize = 1;
    pub const PARTNO: u32 = 0xC24; // Arm Cortex-M4
    pub const CORE_HZ: u32 = super::HCLK_HZ;
    pub const OTHER_SEV: super::pac::Interrupt = super::pac::Interrupt::CM7_SEV_IT;
}

/// sys_ck = PLL1 P: the M7's clock (boards/stm32h745.toml `cores[0].clock_hz`).
pub const SYS_HZ: u32 = 400_000_000;
/// HCLK = AXI clock = the M4's clock (`cores[1].clock_hz`): sys_ck / 2.
pub const HCLK_HZ: u32 = SYS_HZ / 2;
/// APB1 (USART3's kernel clock by default): HCLK / 2.
pub const PCLK1_HZ: u32 = HCLK_HZ / 2;
/// TIM2's clock: twice PCLK1 (RCC_CFGR.TIMPRE = 0 with an APB1 prescaler of 2), counted
/// undivided (TIM2_PSC = 0): `firmware.counter_hz`.
pub const TIMER_HZ: u32 = 2 * PCLK1_HZ;
#[cfg(feature = "cm7")]
const BAUD: u32 = arielml_runtime::board_fact!("SERIAL_BAUD");
const _: () = assert!(arielml_runtime::board_fact!("CORES") == 2, "the STM32H745 has two cores");
const _: () = assert!(arielml_runtime::board_fact!("COUNTER_HZ") == TIMER_HZ, "counter_hz: TIM2 runs at twice PCLK1");

/// PLL1: a 4 MHz reference (range 4-8 MHz), VCO x200 = 800 MHz (wide range), P / 2 =
/// 400 MHz, R / 4 = 200 MHz (keeps the trace clock, which follows pll1_r_ck once sys_ck is
/// PLL1, running), Q off.
#[cfg(feature = "cm7")]
mod pll {
    pub const HSE_HZ: u32 = 8_000_000; // the ST-LINK V3's MCO on a NUCLEO-H745ZI-Q, bypass mode
    pub const HSI_HZ: u32 = 64_000_000;
    pub const REF_HZ: u32 = 4_000_000;
    pub const N: u32 = 200;
    pub const P: u32 = 2;
    pub const R: u32 = 4;
    const _: () = assert!(REF_HZ * N / P == super::SYS_HZ && REF_HZ * N / R == super::HCLK_HZ);
    /// Polls of HSERDY before falling back to the HSI (tens of ms at the reset clock).
    pub const HSE_POLLS: u32 = 500_000;
}
/// FLASH_ACR for AXI = 200 MHz at VOS1.
#[cfg(feature = "cm7")]
const FLASH_LATENCY: u8 = 2;
#[cfg(feature = "cm7")]
const FLASH_WRHIGHFREQ: u8 = 2;
/// ART accelerator: caches the M4's accesses to this 1 MiB page of the D1 domain
/// (address bits 31:20): flash bank 2, where image 1 lives.
#[cfg(feature = "cm4")]
const ART_PAGE: u16 = 0x081;
/// SCB_SCR.SEVONPEND.
const SCR_SEVONPEND: u32 = 1 << 4;
/// SysTick rate of the wake-up safety net.
const TICK_HZ: u32 = 1_000;

pub struct Stm32h745;

/// The board type under the name every board crate exports (used by generated crates).
pub type ThisBoard = Stm32h745;

// SAFETY (all accessors): the registers are always mapped; each is written only by the
// code paths documented at the top (the M7 configures, before releasing the M4; the M4
// writes only its own allocation registers and the ART afterwards).
fn rcc() -> &'static pac::rcc::RegisterBlock {
    unsafe { &*pac::RCC::ptr() }
}

fn usart3() -> &'static pac::usart1::RegisterBlock {
    unsafe { &*pac::USART3::ptr() }
}

fn tim2() -> &'static pac::tim2::RegisterBlock {
    unsafe { &*pac::TIM2::ptr() }
}

impl Board for Stm32h745 {
    const NAME: &'static str = arielml_runtime::board_name!();
    const CORES: usize = 2;
    /// TIM2, shared by both cores.
    const COUNTER_HZ: u32 = TIMER_HZ;

    fn core_id() -> usize {
        side::CORE
    }

    fn start_other_cores(_entry: fn(usize) -> !) {
        panic!("stm32h745: each core boots its own image; the M4 is released by start_other_images")
    }

    fn start_other_images() {
        #[cfg(feature = "cm7")]
        release_cm4();
        #[cfg(feature = "cm4")]
        panic!("stm32h745: only the M7 (image 0) releases the other image");
    }

    fn serial_write(bytes: &[u8]) {
        let u = usart3();
        // Before `init_cm7` has run the USART is unclocked (its registers read as zero):
        // drop the bytes rather than wait forever for TXE.
        if u.cr1().read().ue().bit_is_clear() {
            return;
        }
        for &b in bytes {
            // TXE reads as TXFNF (room in the TX FIFO) with the FIFO enabled.
            while u.isr().read().txe().bit_is_clear() {}
            u.tdr().write(|w| unsafe { w.tdr().bits(b as u16) });
        }
    }

    fn serial_read() -> Option<u8> {
        let u = usart3();
        // RXNE reads as RXFNE (RX FIFO not empty) with the FIFO enabled.
        if u.isr().read().rxne().bit_is_set() {
            Some(u.rdr().read().rdr().bits() as u8)
        } else {
            None
        }
    }

    fn counter() -> u32 {
        tim2().cnt().read().bits()
    }

    fn wait_for_signal() {
        cortex_m::asm::wfe();
        // Re-arm: SEVONPEND wakes on a transition to pending, so the other core's SEV line
        // must not stay pending.
        cortex_m::peripheral::NVIC::unpend(side::OTHER_SEV);
    }

    fn signal() {
        cortex_m::asm::dsb();
        cortex_m::asm::sev();
    }

    fn exit(_code: i32) -> ! {
        // No host to report to: whatever the firmware had to say went over the serial link.
        loop {
            cortex_m::asm::wfe();
        }
    }

    // `lock_serial`: the runtime's default compare-and-swap lock, in the M7's DTCM: only
    // the M7 writes to the serial link in normal operation.
}

/// Park a core that runs the wrong image (e.g. image 1 flashed to bank 1): nothing is
/// configured, so nothing can be reported; a debugger finds the core here.
#[inline(never)]
fn wrong_core() -> ! {
    loop {
        cortex_m::asm::wfe();
    }
}

/// Called first thing by `entry!` on each core: the core's set-up (see the crate docs);
/// returns the executor's index of this core.
pub fn boot() -> usize {
    // SAFETY: CPUID is read-only.
    let cpuid = unsafe { (*cortex_m::peripheral::CPUID::PTR).base.read() };
    if (cpuid >> 4) & 0xFFF != side::PARTNO {
        wrong_core();
    }
    #[cfg(feature = "cm7")]
    init_cm7();
    #[cfg(feature = "cm4")]
    init_cm4();
    side::CORE
}

/// SEVONPEND (the other core's SEV line wakes WFE) and the 1 kHz SysTick safety net, on
/// the calling core at its final clock.
fn enable_wakeups() {
    // SAFETY: this core's own SCB and SysTick, configured once, before `app` runs.
    let mut cp = unsafe { cortex_m::Peripherals::steal() };
    unsafe { cp.SCB.scr.modify(|r| r | SCR_SEVONPEND) };
    cp.SYST.set_clock_source(SystClkSource::Core);
    cp.SYST.set_reload(side::CORE_HZ / TICK_HZ - 1);
    cp.SYST.clear_current();
    cp.SYST.enable_interrupt();
    cp.SYST.enable_counter();
}

/// Ends a WFE at least once a millisecond (see the crate docs); nothing else to do.
#[cortex_m_rt::exception]
fn SysTick() {}

/// M7: power, clocks, caches, USART3 and TIM2, before anything else runs.
#[cfg(feature = "cm7")]
fn init_cm7() {
    // SAFETY: the M7, first thing after reset; the M4 touches none of these blocks before
    // the M7 sets BOOT_C2 in `start_other_images`.
    let (pwr, flash) = unsafe { (&*pac::PWR::ptr(), &*pac::FLASH::ptr()) };
    let rcc = rcc();

    // Direct SMPS supply (SDEN = 1, LDOEN = 0, BYPASS = 0); the supply configuration can
    // be written once per power-on, later writes of the same value change nothing.
    pwr.cr3().modify(|_, w| w.sden().set_bit().ldoen().clear_bit().bypass().clear_bit());
    while pwr.csr1().read().actvosrdy().bit_is_clear() {}
    // VOS1 (D3CR.VOS = 0b11), the highest scale direct SMPS allows.
    pwr.d3cr().write(|w| unsafe { w.vos().bits(0b11) });
    while pwr.d3cr().read().vosrdy().bit_is_clear() {}

    // Wait states for the final AXI clock before any clock goes up.
    flash.acr().write(|w| unsafe { w.latency().bits(FLASH_LATENCY).wrhighfreq().bits(FLASH_WRHIGHFREQ) });
    while flash.acr().read().latency().bits() != FLASH_LATENCY {}

    // HSE in bypass mode (the ST-LINK's MCO), else the HSI; either divided to 4 MHz.
    let hse = start_hse();
    let (src, divm) = if hse { (0b10, pll::HSE_HZ / pll::REF_HZ) } else { (0b00, pll::HSI_HZ / pll::REF_HZ) };
    rcc.pllckselr().modify(|_, w| unsafe { w.pllsrc().bits(src).divm1().bits(divm as u8) });
    rcc.pllcfgr().modify(|_, w| unsafe {
        w.pll1rge().bits(0b10) // reference 4-8 MHz
            .pll1vcosel().clear_bit() // wide VCO range (192-836 MHz)
            .pll1fracen().clear_bit()
            .divp1en().set_bit()
            .divq1en().clear_bit()
            .divr1en().set_bit()
    });
    rcc.pll1divr().write(|w| unsafe {
        w.divn1().bits((pll::N - 1) as u16)
            .divp1().bits((pll::P - 1) as u8)
            .divq1().bits(3) // output disabled above
            .divr1().bits((pll::R - 1) as u8)
    });
    rcc.cr().modify(|_, w| w.pll1on().set_bit());
    while rcc.cr().read().pll1rdy().bit_is_clear() {}

    // Prescalers before the switch: D1CPRE / 1 (M7 = sys_ck), HPRE / 2 (AXI, AHB, M4),
    // D1PPRE, D2PPRE1, D2PPRE2, D3PPRE / 2 (APB3, APB1, APB2, APB4 = 100 MHz).
    rcc.d1cfgr().modify(|_, w| unsafe { w.d1cpre().bits(0).hpre().bits(0b1000).d1ppre().bits(0b100) });
    while rcc.d1cfgr().read().hpre().bits() != 0b1000 {}
    rcc.d2cfgr().modify(|_, w| unsafe { w.d2ppre1().bits(0b100).d2ppre2().bits(0b100) });
    rcc.d3cfgr().modify(|_, w| unsafe { w.d3ppre().bits(0b100) });
    rcc.cfgr().modify(|_, w| unsafe { w.sw().bits(0b011) }); // sys_ck = pll1_p_ck
    while rcc.cfgr().read().sws().bits() != 0b011 {}

    // SAFETY: the M7's own SCB; its I-cache holds instructions only (see the crate docs).
    let mut cp = unsafe { cortex_m::Peripherals::steal() };
    cp.SCB.enable_icache();
    enable_wakeups();

    // USART3 on PD8 (TX) / PD9 (RX), AF7; TIM2.
    rcc.ahb4enr().modify(|_, w| w.gpioden().set_bit());
    rcc.apb1lenr().modify(|_, w| w.usart3en().set_bit().tim2en().set_bit());
    let _ = rcc.apb1lenr().read(); // the enables take effect before the first access
    // SAFETY: GPIOD is used for nothing else.
    let gpiod = unsafe { &*pac::GPIOD::ptr() };
    gpiod.moder().modify(|r, w| unsafe { w.bits((r.bits() & !(0b1111 << 16)) | (0b1010 << 16)) });
    gpiod.afrh().modify(|r, w| unsafe { w.bits((r.bits() & !0xff) | 0x77) });
    gpiod.pupdr().modify(|r, w| unsafe { w.bits((r.bits() & !(0b11 << 18)) | (0b01 << 18)) }); // RX pull-up

    let u = usart3();
    u.cr1().write(|w| w.ue().clear_bit());
    u.brr().write(|w| unsafe { w.brr().bits(((PCLK1_HZ + BAUD / 2) / BAUD) as u16) });
    // No overrun flag: a missed byte shows as a bad frame, which the protocol retries,
    // rather than stopping reception until the flag is cleared.
    u.cr3().write(|w| w.ovrdis().set_bit());
    // 8N1 (M1:M0 = 00, no parity, CR2.STOP = 1 bit), FIFOs on (FIFOEN is writable only
    // while UE = 0), transmitter and receiver on; then the USART on.
    u.cr1().write(|w| w.fifoen().set_bit().te().set_bit().re().set_bit());
    u.cr1().modify(|_, w| w.ue().set_bit());

    let t = tim2();
    t.psc().write(|w| unsafe { w.psc().bits(0) });
    t.arr().write(|w| unsafe { w.arr().bits(u32::MAX) });
    t.egr().write(|w| w.ug().set_bit()); // load the prescaler, counter to 0
    t.cr1().write(|w| w.cen().set_bit());
}

/// Start the HSE in bypass mode; false (and HSE off again) if it never becomes ready.
#[cfg(feature = "cm7")]
fn start_hse() -> bool {
    let rcc = rcc();
    rcc.cr().modify(|_, w| w.hsebyp().set_bit()); // only writable while the HSE is off
    rcc.cr().modify(|_, w| w.hseon().set_bit());
    for _ in 0..pll::HSE_POLLS {
        if rcc.cr().read().hserdy().bit_is_set() {
            return true;
        }
    }
    rcc.cr().modify(|_, w| w.hseon().clear_bit());
    while rcc.cr().read().hserdy().bit_is_set() {}
    rcc.cr().modify(|_, w| w.hsebyp().clear_bit());
    false
}

/// M7: let the M4 run its image (see the crate docs). The M4 boots from the option byte
/// BOOT_CM4_ADD0, which must point at image 1 (`__arielml_image1_vectors`, from this
/// image's generated memory.x): checked, because a mismatch would leave the M7 waiting
/// forever for a core that runs something else.
#[cfg(feature = "cm7")]
fn release_cm4() {
    extern "C" {
        static __arielml_image1_vectors: u32;
    }
    // Only the symbol's address is used.
    let image1 = core::ptr::addr_of!(__arielml_image1_vectors) as u32;
    // SAFETY: read-only view of the option bytes in force.
    let boot = (unsafe { &*pac::FLASH::ptr() }.boot4_curr().read().boot_cm4_add0().bits() as u32) << 16;
    if boot != image1 {
        panic!("the Cortex-M4 boots from {boot:#010x} (option byte BOOT_CM4_ADD0) but image 1 is at {image1:#010x}");
    }
    cortex_m::asm::dsb();
    rcc().gcr().modify(|_, w| w.boot_c2().set_bit());
    Stm32h745::signal();
}

/// M4: wait for the M7's release, then allocate what this core uses and turn on its
/// instruction cache.
#[cfg(feature = "cm4")]
fn init_cm4() {
    let rcc = rcc();
    while rcc.gcr().read().boot_c2().bit_is_clear() {
        core::hint::spin_loop();
    }
    // The RCC_xxxENR registers address the calling CPU's own enables (RCC_C2_xxxENR here,
    // RM0399 "Peripheral allocation"): the M4 allocates its RAM, the ART, the counter and
    // the serial port for itself, so their clocks follow this core's modes as well.
    rcc.ahb2enr().modify(|_, w| w.sram1en().set_bit().sram2en().set_bit().sram3en().set_bit());
    rcc.ahb1enr().modify(|_, w| w.arten().set_bit());
    rcc.apb1lenr().modify(|_, w| w.tim2en().set_bit().usart3en().set_bit());
    let _ = rcc.ahb1enr().read(); // the enables take effect before the first access
    // SAFETY: the ART is the M4's, configured only here.
    let art = unsafe { &*pac::ART::ptr() };
    art.ctr().write(|w| unsafe { w.pcacheaddr().bits(ART_PAGE) });
    art.ctr().modify(|_, w| w.en().set_bit());
    enable_wakeups();
}

/// Define the firmware's reset entry: each core's set-up (`boot`), then `app(core)`:
/// image 0 runs on the M7 (core 0), image 1 on the M4 (core 1).
#[macro_export]
macro_rules! entry {
    ($app:path) => {
        #[$crate::cortex_m_rt::entry]
        fn main() -> ! {
            $app($crate::boot())
        }

        #[panic_handler]
        fn panic(info: &core::panic::PanicInfo) -> ! {
            $crate::panic(info)
        }
    };
}

/// Report a panic in one line naming the core (0: M7, 1: M4) and task, and park the core.
pub fn panic(info: &core::panic::PanicInfo) -> ! {
    arielml_runtime::fault::panic::<Stm32h745>(info)
}

/// Each core's HardFault: one line naming the core, its task and the faulting pc.
#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    arielml_runtime::fault::fault::<Stm32h745>("HardFault", frame.pc() as usize)
}
