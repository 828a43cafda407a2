//! A user application on the RP2040: rp2040-hal for clocks, UART0 and core 1 (its
//! `Multicore::spawn`), the model as a library. Core 0 runs one inference on the input
//! baked into the image, with core 1 working on its share, and prints the top class on
//! UART0 (GPIO0/1, 115200 baud).
#![no_std]
#![no_main]

use core::fmt::Write;

use rp2040_hal as hal;
use hal::fugit::RateExtU32;
use hal::pac;
use hal::Clock;

/// The second-stage bootloader for the Pico's W25Q080 flash, where the boot ROM looks.
#[link_section = ".boot2"]
#[used]
pub static BOOT2_FIRMWARE: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

const XOSC_HZ: u32 = 12_000_000;

static INPUT: [i8; model::INPUT0_LEN] =
    // SAFETY: i8 and u8 have the same size and every bit pattern is valid for both.
    unsafe { core::mem::transmute::<[u8; model::INPUT0_LEN], [i8; model::INPUT0_LEN]>(*include_bytes!("../../model/input.bin")) };

/// Core 1's stack: 2048 words.
static CORE1_STACK: hal::multicore::Stack<2048> = hal::multicore::Stack::new();

#[hal::entry]
fn main() -> ! {
    let mut p = pac::Peripherals::take().unwrap();
    let mut watchdog = hal::Watchdog::new(p.WATCHDOG);
    let clocks = match hal::clocks::init_clocks_and_plls(XOSC_HZ, p.XOSC, p.CLOCKS, p.PLL_SYS, p.PLL_USB,
                                                         &mut p.RESETS, &mut watchdog) {
        Ok(c) => c,
        Err(_) => loop {
            cortex_m::asm::wfe();
        },
    };
    let mut sio = hal::Sio::new(p.SIO);
    let pins = hal::gpio::Pins::new(p.IO_BANK0, p.PADS_BANK0, sio.gpio_bank0, &mut p.RESETS);
    let uart_pins = (pins.gpio0.into_function::<hal::gpio::FunctionUart>(),
                     pins.gpio1.into_function::<hal::gpio::FunctionUart>());
    let config = hal::uart::UartConfig::new(115_200.Hz(), hal::uart::DataBits::Eight, None, hal::uart::StopBits::One);
    let mut uart = hal::uart::UartPeripheral::new(p.UART0, uart_pins, &mut p.RESETS)
        .enable(config, clocks.peripheral_clock.freq())
        .unwrap();
    if model::CORES > 1 {
        // The HAL's launch call; core 1 then runs its share of every inference, forever.
        let mut mc = hal::multicore::Multicore::new(&mut p.PSM, &mut p.PPB, &mut sio.fifo);
        let stack = CORE1_STACK.take().unwrap();
        if mc.cores()[1].spawn(stack, || model::worker::<model::WfeSev>(1)).is_err() {
            let _ = writeln!(uart, "core 1 did not start");
        }
    }
    // SAFETY: this is the only handle (the Cortex-M0+ has no compare-and-swap for `take`).
    let mut m = unsafe { model::Model::steal() };
    let mut scores = [0i8; model::OUTPUT0_LEN];
    m.run::<model::WfeSev>(&INPUT, &mut scores);
    let top = (0..scores.len()).max_by_key(|&i| (scores[i], core::cmp::Reverse(i))).unwrap_or(0);
    let _ = write!(uart, "rp2040: {} core(s): top class {} scores", model::CORES, top);
    for s in scores {
        let _ = write!(uart, " {s}");
    }
    let _ = writeln!(uart);
    loop {
        cortex_m::asm::wfe();
    }
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {
        cortex_m::asm::wfe();
    }
}
