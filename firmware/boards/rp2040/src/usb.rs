//! The host link on the RP2040's own USB port: a CDC-ACM serial device (`/dev/ttyACM0` on
//! Linux, a COM port on Windows), next to UART0. usb-device + usbd-serial's `CdcAcmClass`
//! over rp2040-hal's `usb::UsbBus`.
//!
//! Who touches what:
//! - The USB controller (the `UsbDevice` and the class in `USB`) is serviced on core 0 only:
//!   by the `USBCTRL_IRQ` handler (installed by this crate's `entry!`, enabled in core 0's
//!   NVIC only), and by `read`/`write`/`flush` when core 0 calls them. The interrupt keeps
//!   the device enumerating and answering control requests while core 0 runs an inference.
//! - `TX` is the one thing other cores touch: `write` from core 1 (the roll call, a panic)
//!   only queues bytes; core 0's interrupt sends them (on the next USB event or SOF).
//! - Everything shared lives in `critical_section::Mutex`es (rp2040-hal's critical section:
//!   interrupts off on this core + hardware spinlock 31; thumbv6m has no compare-and-swap).
//!   The atomics below are plain loads and stores, which thumbv6m has.
//!
//! Writes never block for long: bytes are queued only while a host has the port open
//! (configured, and it set DTR or has sent us data), a full queue that does not drain within
//! `STALL_US` is dropped from, and nothing is queued at all without a host (a Pico on a
//! battery with only UART0 wired pays one atomic load per write).
//!
//! Packets: the protocol writes replies a byte at a time, so bytes are queued and go out as
//! full 64-byte packets while a reply is being written; the rest goes out when core 0 next
//! looks for input (`read` finding nothing: the reply is complete, the server waits for the
//! host's next request), on every SOF (1 ms, so bytes queued by core 1 or before a long
//! computation do not wait), and on `flush` (exit, panic). A transfer that ends on a full
//! packet is closed with a zero-length packet, so that a host reading more than 64 bytes at
//! a time (Windows, macOS) does not wait for more.

use core::cell::RefCell;
use core::sync::atomic::{AtomicBool, Ordering};

use critical_section::{CriticalSection, Mutex};
use usb_device::bus::UsbBusAllocator;
use usb_device::device::{StringDescriptors, UsbDevice, UsbDeviceBuilder, UsbDeviceState, UsbVidPid};
use usb_device::UsbError;
use usbd_serial::CdcAcmClass;

use arielml_runtime::board::Board;

use crate::{hal, Rp2040};
use hal::pac;
use hal::usb::UsbBus;

/// USB vendor and product id: pid.codes' shared *test* PID (VID 0x1209, PID 0x0001), which
/// pid.codes gives out for testing, not for products that ship. It is the honest choice for
/// firmware not yet run on hardware: Raspberry Pi's VID 0x2E8A with a PID of its pico-sdk (e.g. 0x000A,
/// "Pico stdio USB") would claim to be the SDK. A released product should get its own PID
/// (free from pid.codes for open-source projects, or from Raspberry Pi for RP2040 products).
/// Linux binds cdc_acm by interface class, whatever the ids.
pub const VID_PID: (u16, u16) = (0x1209, 0x0001);
pub const MANUFACTURER: &str = "arielml";
pub const PRODUCT: &str = concat!("arielml ", board_name!());
/// The same on every board: a unique one needs the flash chip's unique id (QSPI command 0x4B
/// with XIP off, i.e. code in RAM or boot ROM calls, which rp2040js lacks). Two Picos on one
/// host still get two ports (ttyACM0, ttyACM1); only their /dev/serial/by-id names clash.
pub const SERIAL_NUMBER: &str = "0001";

/// Full-speed bulk packets (and endpoint 0, see rp2040-hal's note on small EP0 packets).
const PACKET: usize = 64;
/// Bytes queued for the host. The UART (115200 baud, written too) is far slower than USB,
/// so with a reading host this never fills; it bounds what a silent host can hold up.
const TX_CAP: usize = 256;
/// Bytes received and not yet read by the server: a packet is taken from the endpoint only
/// when it fits, so the host is NAKed (flow control), never dropped.
const RX_CAP: usize = 128;
/// How long `write` waits for room in `TX` before it drops bytes (the host reads every
/// frame, 1 ms, when it has the port open); after a drop, writes do not wait again until
/// the host takes a packet.
const STALL_US: u32 = 20_000;

/// A byte ring of `N` bytes (`N` <= 65535).
struct Ring<const N: usize> {
    buf: [u8; N],
    head: u16,
    len: u16,
}

impl<const N: usize> Ring<N> {
    const fn new() -> Self {
        Ring { buf: [0; N], head: 0, len: 0 }
    }
    fn len(&self) -> usize {
        self.len as usize
    }
    fn free(&self) -> usize {
        N - self.len()
    }
    fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
    /// Append as much of `data` as fits; how much that was.
    fn push(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.free());
        for (i, &b) in data[..n].iter().enumerate() {
            self.buf[(self.head as usize + self.len() + i) % N] = b;
        }
        self.len += n as u16;
        n
    }
    fn pop(&mut self) -> Option<u8> {
        if self.len == 0 {
            return None;
        }
        let b = self.buf[self.head as usize];
        self.head = ((self.head as usize + 1) % N) as u16;
        self.len -= 1;
        Some(b)
    }
    /// Copy the first `out.len()` queued bytes (at most `len()`) without taking them.
    fn peek(&self, out: &mut [u8]) {
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.buf[(self.head as usize + i) % N];
        }
    }
    fn consume(&mut self, n: usize) {
        let n = n.min(self.len());
        self.head = ((self.head as usize + n) % N) as u16;
        self.len -= n as u16;
    }
}

/// Core 0's USB state.
struct Usb {
    dev: UsbDevice<'static, UsbBus>,
    cdc: CdcAcmClass<'static, UsbBus>,
    rx: Ring<RX_CAP>,
    /// A received packet was left in the endpoint for want of room in `rx`.
    rx_parked: bool,
    /// The host sent data since it configured us (a host that talks has the port open,
    /// even if it never set DTR).
    rx_seen: bool,
    /// DTR as last seen, to notice the port being closed.
    dtr: bool,
    /// Send partial packets until `TX` is empty (set when core 0 waits for input, on exit).
    flush: bool,
    /// The last packet sent was a full one: the transfer needs a zero-length packet to end.
    zlp_due: bool,
}

static USB: Mutex<RefCell<Option<Usb>>> = Mutex::new(RefCell::new(None));
static TX: Mutex<RefCell<Ring<TX_CAP>>> = Mutex::new(RefCell::new(Ring::new()));
/// The host configured the device (set by core 0's interrupt): `read` looks at `rx`.
static CONFIGURED: AtomicBool = AtomicBool::new(false);
/// ... and has the port open: `write` queues bytes.
static CONNECTED: AtomicBool = AtomicBool::new(false);
/// `TX` stayed full for `STALL_US`: drop instead of waiting, until the host takes a packet.
static STALLED: AtomicBool = AtomicBool::new(false);

/// Bring the USB controller up as a CDC-ACM device and enable its interrupt on core 0.
/// Needs the 48 MHz USB clock (`init` configures it). Touches no boot ROM function and
/// waits for nothing from the controller, so it returns at once on a board without a host
/// (and in rp2040js, whose controller does nothing until a simulated host is attached).
pub(crate) fn init(
    regs: pac::USBCTRL_REGS,
    dpram: pac::USBCTRL_DPRAM,
    clock: hal::clocks::UsbClock,
    resets: &mut pac::RESETS,
) {
    // `true`: force VBUS detection. The Pico senses VBUS on GPIO24, not on the controller's
    // VBUS_DET pin, so the controller would never see a host otherwise.
    let bus = UsbBus::new(regs, dpram, clock, true, resets);
    let Some(alloc) = cortex_m::singleton!(: UsbBusAllocator<UsbBus> = UsbBusAllocator::new(bus)) else {
        return; // init ran twice: the device is already up
    };
    let alloc: &'static UsbBusAllocator<UsbBus> = alloc;
    // The class first: it allocates its endpoints before `build` freezes the allocator.
    let cdc = CdcAcmClass::new(alloc, PACKET as u16);
    let strings = StringDescriptors::default()
        .manufacturer(MANUFACTURER)
        .product(PRODUCT)
        .serial_number(SERIAL_NUMBER);
    let Ok(builder) = UsbDeviceBuilder::new(alloc, UsbVidPid(VID_PID.0, VID_PID.1))
        .strings(&[strings])
        .and_then(|b| b.max_packet_size_0(PACKET as u8))
    else {
        return;
    };
    // CDC-ACM's two interfaces are tied by an interface association descriptor: the device
    // class is then Misc/Common/IAD (0xEF/0x02/0x01), as TinyUSB's CDC in pico-sdk does.
    // `build` enables the controller's interrupts and its D+ pull-up: the host sees us now.
    let dev = builder.composite_with_iads().build();
    critical_section::with(|cs| {
        *USB.borrow(cs).borrow_mut() = Some(Usb {
            dev,
            cdc,
            rx: Ring::new(),
            rx_parked: false,
            rx_seen: false,
            dtr: false,
            flush: false,
            zlp_due: false,
        });
        // SOF, every 1 ms while a host is attached: flushes what core 1 queued, and bytes
        // left by a reply before a long computation (the HAL enables the others).
        // SAFETY: INTE is written only here and in the HAL's `enable` (already run).
        unsafe { &*pac::USBCTRL_REGS::ptr() }.inte().modify(|_, w| w.dev_sof().set_bit());
    });
    // SAFETY: the handler (`irq`, via `entry!`) only takes `USB` in a critical section.
    unsafe { pac::NVIC::unmask(pac::Interrupt::USBCTRL_IRQ) };
}

/// `USBCTRL_IRQ` on core 0: run the USB stack, take received packets, send queued bytes.
pub fn irq() {
    critical_section::with(|cs| {
        let Ok(mut usb) = USB.borrow(cs).try_borrow_mut() else { return };
        let Some(u) = usb.as_mut() else {
            // Cannot happen (unmasked after `USB` is set), but never spin on a level interrupt.
            pac::NVIC::mask(pac::Interrupt::USBCTRL_IRQ);
            return;
        };
        u.dev.poll(&mut [&mut u.cdc]);
        // SAFETY: reading SOF_RD clears DEV_SOF (RP2040 datasheet 4.1.4, INTR); the HAL
        // does not use it.
        let regs = unsafe { &*pac::USBCTRL_REGS::ptr() };
        let sof = regs.ints().read().dev_sof().bit_is_set();
        if sof {
            let _ = regs.sof_rd().read();
        }
        let configured = u.dev.state() == UsbDeviceState::Configured;
        if configured {
            receive(u);
        }
        let dtr = configured && u.cdc.dtr();
        if !configured || (u.dtr && !dtr) {
            u.rx_seen = false; // reset, unplugged, or the host closed the port
        }
        u.dtr = dtr;
        let connected = configured && (dtr || u.rx_seen);
        let Ok(mut tx) = TX.borrow(cs).try_borrow_mut() else { return };
        if !connected && CONNECTED.load(Ordering::Relaxed) {
            tx.clear(); // for a host that has gone: the next one should not get it
            u.flush = false;
            u.zlp_due = false;
        }
        CONFIGURED.store(configured, Ordering::Relaxed);
        CONNECTED.store(connected, Ordering::Relaxed);
        if connected {
            let force = sof || u.flush;
            pump(u, &mut tx, force);
        }
    });
}

/// Move received packets from the endpoint into `rx` while they fit. A packet that does not
/// fit stays in the endpoint (the host is NAKed); its buffer-status bit is cleared, or the
/// level-triggered interrupt would fire forever, and `read` takes it once there is room.
fn receive(u: &mut Usb) {
    loop {
        if u.rx.free() < PACKET {
            let bit = 1u32 << (u.cdc.read_ep().address().index() * 2 + 1); // OUT buffer status
            // SAFETY: BUFF_STATUS is write-1-to-clear; this clears only our OUT endpoint's bit.
            unsafe { (*pac::USBCTRL_REGS::ptr()).buff_status().write(|w| w.bits(bit)) };
            u.rx_parked = true;
            return;
        }
        u.rx_parked = false;
        let mut pkt = [0u8; PACKET];
        match u.cdc.read_packet(&mut pkt) {
            Ok(n) => {
                u.rx.push(&pkt[..n]);
                if n > 0 {
                    u.rx_seen = true;
                }
            }
            Err(_) => return, // WouldBlock: nothing more
        }
    }
}

/// Send queued bytes: full packets, and with `force` also the last partial one (and the
/// zero-length packet that ends a transfer of full packets). Stops when the endpoint is busy;
/// its IN-complete interrupt calls this again.
fn pump(u: &mut Usb, tx: &mut Ring<TX_CAP>, force: bool) {
    let force = force || u.flush;
    loop {
        let n = tx.len().min(PACKET);
        if n == 0 {
            if force && u.zlp_due && u.cdc.write_packet(&[]).is_ok() {
                u.zlp_due = false;
            }
            if !u.zlp_due {
                u.flush = false;
            }
            return;
        }
        if n < PACKET && !force {
            return;
        }
        let mut pkt = [0u8; PACKET];
        tx.peek(&mut pkt[..n]);
        match u.cdc.write_packet(&pkt[..n]) {
            Ok(_) => {
                tx.consume(n);
                u.zlp_due = n == PACKET;
                STALLED.store(false, Ordering::Relaxed);
            }
            Err(UsbError::WouldBlock) => return,
            Err(_) => {
                // Not configured any more: the interrupt will notice and clear the queue.
                return;
            }
        }
    }
}

fn on_core0() -> bool {
    // SAFETY: SIO CPUID is read-only and reads as the index of the core reading it.
    unsafe { (*pac::SIO::ptr()).cpuid().read().bits() == 0 }
}

/// Queue `bytes` for the USB host, if one has the port open. Any core. Waits at most
/// `STALL_US` for room (core 0 sends meanwhile; on core 1 the SOF interrupt does), then
/// drops the rest.
pub(crate) fn write(bytes: &[u8]) {
    let core0 = on_core0();
    let mut rest = bytes;
    let mut progress_at = Rp2040::counter();
    while !rest.is_empty() && CONNECTED.load(Ordering::Relaxed) {
        let taken = critical_section::with(|cs| {
            let Ok(mut tx) = TX.borrow(cs).try_borrow_mut() else { return None };
            let mut n = tx.push(rest);
            if core0 && tx.len() >= PACKET {
                with_usb(cs, |u| pump(u, &mut tx, false));
                n += tx.push(&rest[n..]);
            }
            Some(n)
        });
        let Some(n) = taken else { break }; // inside a USB handler (a panic there): drop
        rest = &rest[n..];
        if rest.is_empty() || STALLED.load(Ordering::Relaxed) {
            break;
        }
        let now = Rp2040::counter();
        if n > 0 {
            progress_at = now;
        } else if now.wrapping_sub(progress_at) > STALL_US {
            STALLED.store(true, Ordering::Relaxed);
            break;
        }
        if core0 {
            flush();
        }
    }
}

/// Next byte from the USB host (core 0). When there is none, the server is waiting for the
/// host's next request: send whatever is queued now, partial packet included.
pub(crate) fn read() -> Option<u8> {
    if !CONFIGURED.load(Ordering::Relaxed) || !on_core0() {
        return None;
    }
    critical_section::with(|cs| {
        let Ok(mut usb) = USB.borrow(cs).try_borrow_mut() else { return None };
        let u = usb.as_mut()?;
        let byte = u.rx.pop();
        if u.rx_parked && u.rx.free() >= PACKET {
            receive(u);
        }
        if byte.is_none() {
            u.flush = true;
            if let Ok(mut tx) = TX.borrow(cs).try_borrow_mut() {
                pump(u, &mut tx, true);
            }
        }
        byte
    })
}

/// Send everything queued as soon as the endpoint takes it (core 0; on other cores the
/// next SOF does it).
pub(crate) fn flush() {
    if !on_core0() || !CONNECTED.load(Ordering::Relaxed) {
        return;
    }
    critical_section::with(|cs| {
        with_usb(cs, |u| {
            u.flush = true;
            if let Ok(mut tx) = TX.borrow(cs).try_borrow_mut() {
                pump(u, &mut tx, true);
            }
        })
    });
}

fn with_usb(cs: CriticalSection<'_>, f: impl FnOnce(&mut Usb)) {
    if let Ok(mut usb) = USB.borrow(cs).try_borrow_mut() {
        if let Some(u) = usb.as_mut() {
            f(u);
        }
    }
}
