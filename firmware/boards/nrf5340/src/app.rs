//! The application core's side (feature `app`): core 0, which serves the host over UARTE0
//! and releases the network core.
//!
//! The core runs in the secure state (nothing configures TrustZone), so every peripheral is
//! used through its secure alias (0x5xxx_xxxx), and the SPU's reset configuration (every
//! peripheral, GPIO and RAM region secure) is kept.

use core::ptr::{addr_of, addr_of_mut};
use core::sync::atomic::{compiler_fence, AtomicBool, Ordering};

use arielml_runtime::board::Board;

use crate::{pac, Nrf5340};

pub const CORE: usize = 0;

/// Where the network core starts after Force-OFF is released: the vector table at the
/// origin of its flash (fixed by the hardware; the network core has no VTOR to set).
const NET_FLASH_ORIGIN: u32 = 0x0100_0000;

/// nRF5340 DK VCOM0 (the interface MCU's first virtual COM port): UARTE0 TXD on P0.20,
/// RXD on P0.22, as Zephyr's nrf5340_cpuapp_common-pinctrl.dtsi maps the DK's uart0.
const TXD_PIN: usize = 20;
const RXD_PIN: usize = 22;
/// BAUDRATE encoding of 115200 baud (actual 115108), nRF5340 PS, UARTE BAUDRATE.
const BAUD_115200: u32 = 0x01D7_E000;
const _: () = assert!(crate::BAUD == 115_200, "BAUD_115200 is the UARTE encoding of 115200 baud only");
/// UARTE ENABLE value that enables the UARTE (EasyDMA) flavour.
const UARTE_ENABLE: u32 = 8;
/// PIN_CNF: DIR output, input buffer disconnected, no pull, MCUSEL application core.
const PIN_CNF_OUTPUT: u32 = 0b11;
/// PIN_CNF: DIR input, input buffer connected, pull-up (the idle level of the line).
const PIN_CNF_INPUT_PULLUP: u32 = 3 << 2;
/// HFCLKCTRL.HCLK = Div1: the CPU at HFCLK / 1 = 128 MHz (reset value Div2, 64 MHz).
const HCLK_DIV1: u32 = 0;
/// RESET.NETWORK.FORCEOFF values.
const FORCEOFF_RELEASE: u32 = 0;
const FORCEOFF_HOLD: u32 = 1;
/// SPU EXTDOMAIN[n].PERM: SECUREMAPPING (bits 0-1, read-only: whether SECATTR may be
/// chosen; 2, user-selectable, after reset) and SECATTR (bit 4: the external domain's bus
/// accesses are secure).
const EXTDOMAIN_SECUREMAPPING: u32 = 0b11;
const SECUREMAPPING_SECURE: u32 = 1;
const SECUREMAPPING_USER_SELECTABLE: u32 = 2;
const EXTDOMAIN_SECATTR: u32 = 1 << 4;
/// Polls of EVENTS_HFCLKSTARTED before going on without the crystal (well over its
/// start-up time of under a millisecond; the CPU then keeps running on HFINT).
const HFXO_START_POLLS: u32 = 2_000_000;

/// UARTE EasyDMA reads and writes only RAM, so bytes to send are copied here first (they may
/// be in flash), and each received byte lands in `RX_BYTE`.
const TX_CHUNK: usize = 64;
static mut TX_BUF: [u8; TX_CHUNK] = [0; TX_CHUNK];
static mut RX_BYTE: u8 = 0;
/// Set once UARTE0 is enabled: a panic before that must not wait for a transfer that
/// never ends.
static UART_READY: AtomicBool = AtomicBool::new(false);

fn uarte() -> &'static pac::uarte0_ns::RegisterBlock {
    // SAFETY: UARTE0 (secure alias) belongs to this crate; only core 0 uses it.
    unsafe { &*pac::UARTE0_S::ptr() }
}

fn timer() -> &'static pac::timer0_ns::RegisterBlock {
    // SAFETY: TIMER0 (secure alias) belongs to this crate: the counter of this core.
    unsafe { &*pac::TIMER0_S::ptr() }
}

fn reset() -> &'static pac::reset_ns::RegisterBlock {
    // SAFETY: only core 0 touches RESET, for the network core's Force-OFF.
    unsafe { &*pac::RESET_S::ptr() }
}

/// Core 0, first thing after reset.
pub fn init() {
    // SAFETY: core 0 before anything else runs; each block is used as documented below.
    let (ficr, uicr, ctrlap, cache, clock) = unsafe {
        (&*pac::FICR_S::ptr(), &*pac::UICR_S::ptr(), &*pac::CTRLAP_S::ptr(), &*pac::CACHE_S::ptr(),
         &*pac::CLOCK_S::ptr())
    };
    crate::apply_trims(ficr.trimcnf.iter().map(|t| (t.addr.read().bits(), t.data.read().bits())));
    // APPROTECT soft branch from UICR, as Nordic's SystemInit: on chips whose access port
    // protection is on by default, this keeps the debugger (and so re-flashing) working
    // while UICR.APPROTECT / SECUREAPPROTECT say "Unprotected", and changes nothing else.
    // SAFETY: the documented use of these registers (the UICR value is the DISABLE key).
    ctrlap.approtect.disable.write(|w| unsafe { w.bits(uicr.approtect.read().bits()) });
    ctrlap.secureapprotect.disable.write(|w| unsafe { w.bits(uicr.secureapprotect.read().bits()) });

    // The network core stays off until `start_network_core`, also when a debugger reset
    // only this core and left an earlier network core running: it must not use the shared
    // block while core 0 zeroes it.
    // SAFETY: FORCEOFF is a one-bit register; 1 holds the network core off.
    reset().network.forceoff.write(|w| unsafe { w.bits(FORCEOFF_HOLD) });

    // Instruction cache for code and constants read from flash (off after reset).
    // SAFETY: CACHE.ENABLE = 1.
    cache.enable.write(|w| unsafe { w.bits(1) });

    // HFCLK from the 32 MHz crystal (HFCLKSRC resets to HFXO), then HCLK at 128 MHz.
    // SAFETY: event clear, task trigger and HFCLKCTRL write with documented values.
    clock.events_hfclkstarted.write(|w| unsafe { w.bits(0) });
    clock.tasks_hfclkstart.write(|w| unsafe { w.bits(1) });
    let mut polls = 0;
    while clock.events_hfclkstarted.read().bits() == 0 && polls < HFXO_START_POLLS {
        polls += 1;
    }
    clock.hfclkctrl.write(|w| unsafe { w.bits(HCLK_DIV1) });

    crate::start_timer(timer());
    init_uart();
}

fn init_uart() {
    // SAFETY: P0 (secure alias) pins 20/22 and UARTE0 are this crate's; values documented above.
    let p0 = unsafe { &*pac::P0_S::ptr() };
    let u = uarte();
    p0.outset.write(|w| unsafe { w.bits(1 << TXD_PIN) }); // TXD idles high
    p0.pin_cnf[TXD_PIN].write(|w| unsafe { w.bits(PIN_CNF_OUTPUT) });
    p0.pin_cnf[RXD_PIN].write(|w| unsafe { w.bits(PIN_CNF_INPUT_PULLUP) });
    // PSEL: pin number, port 0 (bit 5 clear), connected (bit 31 clear); RTS/CTS keep their
    // reset value, disconnected: no flow control, as the DK's VCOM0 is used by default.
    u.psel.txd.write(|w| unsafe { w.bits(TXD_PIN as u32) });
    u.psel.rxd.write(|w| unsafe { w.bits(RXD_PIN as u32) });
    u.baudrate.write(|w| unsafe { w.bits(BAUD_115200) });
    u.config.write(|w| unsafe { w.bits(0) }); // no parity, one stop bit, no flow control
    u.enable.write(|w| unsafe { w.bits(UARTE_ENABLE) });
    start_rx();
    UART_READY.store(true, Ordering::Release);
}

/// Receive the next byte into `RX_BYTE`. Bytes that arrive before this (after the previous
/// ENDRX) wait in the UARTE's receive FIFO and are moved in as soon as reception restarts.
fn start_rx() {
    let u = uarte();
    // SAFETY: RXD.PTR/MAXCNT describe RX_BYTE, one byte of RAM only EasyDMA writes until
    // ENDRX; then the tasks/events with their documented values.
    u.rxd.ptr.write(|w| unsafe { w.bits(addr_of_mut!(RX_BYTE) as u32) });
    u.rxd.maxcnt.write(|w| unsafe { w.bits(1) });
    u.events_endrx.write(|w| unsafe { w.bits(0) });
    compiler_fence(Ordering::SeqCst);
    u.tasks_startrx.write(|w| unsafe { w.bits(1) });
}

pub fn serial_write(bytes: &[u8]) {
    if !UART_READY.load(Ordering::Acquire) {
        return;
    }
    let u = uarte();
    for chunk in bytes.chunks(TX_CHUNK) {
        // SAFETY: only core 0 writes, holding the serial lock or alone (init, panic), and
        // the previous transfer from TX_BUF ended (ENDTX) before this copy.
        unsafe { addr_of_mut!(TX_BUF).cast::<u8>().copy_from_nonoverlapping(chunk.as_ptr(), chunk.len()) };
        compiler_fence(Ordering::SeqCst);
        // SAFETY: TXD.PTR/MAXCNT describe the bytes just copied into TX_BUF (RAM).
        u.txd.ptr.write(|w| unsafe { w.bits(addr_of!(TX_BUF) as u32) });
        u.txd.maxcnt.write(|w| unsafe { w.bits(chunk.len() as u32) });
        u.events_endtx.write(|w| unsafe { w.bits(0) });
        u.tasks_starttx.write(|w| unsafe { w.bits(1) });
        while u.events_endtx.read().bits() == 0 {}
        compiler_fence(Ordering::SeqCst);
    }
}

pub fn serial_read() -> Option<u8> {
    let u = uarte();
    if u.events_error.read().bits() != 0 {
        // Framing error or FIFO overrun: clear it and go on; the protocol's CRC and retries
        // deal with the bytes lost.
        let src = u.errorsrc.read().bits();
        // SAFETY: ERRORSRC bits are cleared by writing 1 to them.
        u.errorsrc.write(|w| unsafe { w.bits(src) });
        u.events_error.write(|w| unsafe { w.bits(0) });
    }
    if u.events_endrx.read().bits() == 0 {
        return None;
    }
    compiler_fence(Ordering::SeqCst);
    // SAFETY: ENDRX: EasyDMA has written RX_BYTE and does not until the next STARTRX.
    let byte = unsafe { addr_of!(RX_BYTE).read_volatile() };
    start_rx();
    Some(byte)
}

pub fn counter() -> u32 {
    crate::read_timer(timer())
}

/// Release the network core into image 1 (boards/nrf5340.toml): its bus accesses get the
/// secure attribute first, so that it may read and write the shared block in the (secure)
/// application SRAM, as Zephyr's nrf53_cpunet_mgmt.c does for a secure application image.
pub fn start_network_core() {
    extern "C" {
        /// Image 1's vector table (its flash origin), from image 0's generated memory.x.
        static __arielml_image1_vectors: u32;
    }
    // Only the symbol's address is used (taking it is safe; reading it would not be).
    let vectors = addr_of!(__arielml_image1_vectors) as u32;
    assert!(vectors == NET_FLASH_ORIGIN, "nrf5340: image 1 must start at the network core's flash, 0x0100_0000");
    // SAFETY: SPU (secure) EXTDOMAIN[0].PERM: set SECATTR, keep the read-only capability
    // field and LOCK; the network core is still held off.
    let spu = unsafe { &*pac::SPU_S::ptr() };
    spu.extdomain[0].perm.modify(|r, w| unsafe { w.bits(r.bits() | EXTDOMAIN_SECATTR) });
    let perm = spu.extdomain[0].perm.read().bits();
    let secure = match perm & EXTDOMAIN_SECUREMAPPING {
        SECUREMAPPING_SECURE => true,
        SECUREMAPPING_USER_SELECTABLE => perm & EXTDOMAIN_SECATTR != 0,
        _ => false, // always non-secure
    };
    if !secure {
        // Locked or hard-wired non-secure: the network core would fault on its first access
        // to the shared block in the secure application SRAM.
        panic!("nrf5340: SPU EXTDOMAIN[0] keeps the network core non-secure (PERM {perm:#x}); it cannot reach the shared block");
    }
    cortex_m::asm::dsb();
    // SAFETY: FORCEOFF = 0 releases the network core, which boots from its flash origin.
    reset().network.forceoff.write(|w| unsafe { w.bits(FORCEOFF_RELEASE) });
}

/// Report a panic in one line naming the core and task, and park the core.
pub fn panic(info: &core::panic::PanicInfo) -> ! {
    arielml_runtime::fault::panic::<Nrf5340>(info)
}
