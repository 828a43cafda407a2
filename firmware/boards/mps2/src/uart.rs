//! CMSDK APB UART0 (secure alias). Three registers; QEMU needs no baud setup.

use core::ptr::{read_volatile, write_volatile};

const BASE: usize = 0x5020_0000;
const DATA: *mut u32 = BASE as *mut u32;
const STATE: *const u32 = (BASE + 0x4) as *const u32;
const CTRL: *mut u32 = (BASE + 0x8) as *mut u32;
const STATE_TX_FULL: u32 = 1 << 0;
const STATE_RX_FULL: u32 = 1 << 1;
const CTRL_TX_EN: u32 = 1 << 0;
const CTRL_RX_EN: u32 = 1 << 1;

pub fn init() {
    // SAFETY: UART0 registers are always mapped on this board.
    unsafe { write_volatile(CTRL, CTRL_TX_EN | CTRL_RX_EN) };
}

pub fn write(bytes: &[u8]) {
    for &b in bytes {
        // SAFETY: as in `init`.
        unsafe {
            while read_volatile(STATE) & STATE_TX_FULL != 0 {}
            write_volatile(DATA, u32::from(b));
        }
    }
}

pub fn read() -> Option<u8> {
    // SAFETY: as in `init`.
    unsafe { (read_volatile(STATE) & STATE_RX_FULL != 0).then(|| read_volatile(DATA) as u8) }
}
