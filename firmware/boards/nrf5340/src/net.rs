//! The network core's side (feature `net`): core 1, which runs its task table and nothing
//! else. It has no TrustZone: its peripherals have one (non-secure) alias each.

use core::fmt::Write;
use core::ptr::addr_of_mut;

use arielml_runtime::board::Board;

use crate::{pac, Nrf5340};

pub const CORE: usize = 1;

/// Bytes of a network-core panic message kept for a debugger.
const PANIC_BYTES: usize = 160;

/// The last panic message of the network core, NUL-padded (empty: none). The network core
/// has no serial link of its own here (the application core owns UARTE0 and serves the
/// host), so this is where a debugger finds why core 1 stopped, by symbol name:
/// `ARIELML_NET_PANIC` in firmware-image1.elf.
#[no_mangle]
#[used]
pub static mut ARIELML_NET_PANIC: [u8; PANIC_BYTES] = [0; PANIC_BYTES];

fn timer() -> &'static pac::timer0_ns::RegisterBlock {
    // SAFETY: the network core's TIMER0 belongs to this crate: the counter of this core.
    unsafe { &*pac::TIMER0_NS::ptr() }
}

/// Core 1, first thing after the application core released it.
pub fn init() {
    // SAFETY: this core's FICR, UICR and CTRLAP, used as documented below.
    let (ficr, uicr, ctrlap) = unsafe { (&*pac::FICR_NS::ptr(), &*pac::UICR_NS::ptr(), &*pac::CTRLAP_NS::ptr()) };
    crate::apply_trims(ficr.trimcnf.iter().map(|t| (t.addr.read().bits(), t.data.read().bits())));
    // APPROTECT soft branch from UICR, as Nordic's SystemInit for the network core.
    // SAFETY: the documented use of the register (the UICR value is the DISABLE key).
    ctrlap.approtect.disable.write(|w| unsafe { w.bits(uicr.approtect.read().bits()) });
    crate::start_timer(timer());
}

/// The network core never talks to the host: the application core owns the serial link.
pub fn serial_write(_bytes: &[u8]) {}

/// See `serial_write`.
pub fn serial_read() -> Option<u8> {
    None
}

pub fn counter() -> u32 {
    crate::read_timer(timer())
}

/// A `fmt::Write` into `ARIELML_NET_PANIC` that drops what does not fit.
struct PanicRecord {
    len: usize,
}

impl Write for PanicRecord {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // SAFETY: only this core's panic handler writes the buffer, once (it never returns).
        let buf = unsafe { &mut *addr_of_mut!(ARIELML_NET_PANIC) };
        let n = s.len().min(PANIC_BYTES - self.len);
        buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Keep the panic message for a debugger and park the core. The application core then
/// waits for this core's tasks forever, which the host sees as a timeout.
pub fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = write!(PanicRecord { len: 0 }, "panic: {}", info);
    Nrf5340::exit(101)
}
