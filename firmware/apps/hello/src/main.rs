//! First firmware: every core starts and reports in; core 0 gathers and exits.
#![no_std]
#![no_main]

#[cfg(feature = "mps2")]
use arielml_board_mps2::{self as board, Mps2An521 as Board};
#[cfg(feature = "riscv-virt")]
use arielml_board_riscv_virt::{self as board, RiscvVirt as Board};
#[cfg(feature = "rp2040")]
use arielml_board_rp2040::{self as board, Rp2040 as Board};
#[cfg(feature = "rp2350")]
use arielml_board_rp2350::{self as board, Rp2350 as Board};

fn app(core: usize) -> ! {
    arielml_runtime::hello::run::<Board>(core)
}

board::entry!(app);
