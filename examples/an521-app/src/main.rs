//! A user application: its own entry and main loop, the model as a library. Core 0 starts
//! core 1 (here through the board crate, as a HAL's launch call would), runs one inference
//! on both cores on the input baked into the image, and prints the top class on UART0.
#![no_std]
#![no_main]

use core::fmt::Write;

use arielml_board_mps2::runtime::board::{Board, SerialWriter};
use arielml_board_mps2::{self as board, ThisBoard as B};

/// The input: `model/input.bin`, one int8 per element (the length is checked at compile time).
static INPUT: [i8; model::INPUT0_LEN] =
    // SAFETY: i8 and u8 have the same size and every bit pattern is valid for both.
    unsafe { core::mem::transmute::<[u8; model::INPUT0_LEN], [i8; model::INPUT0_LEN]>(*include_bytes!("../../model/input.bin")) };

fn app(core: usize) -> ! {
    if core != 0 {
        model::worker::<model::WfeSev>(core)
    }
    B::start_other_cores(app);
    let mut m = model::Model::take().expect("one model handle");
    let mut scores = [0i8; model::OUTPUT0_LEN];
    m.run::<model::WfeSev>(&INPUT, &mut scores);
    let top = (0..scores.len()).max_by_key(|&i| (scores[i], core::cmp::Reverse(i))).unwrap_or(0);
    let mut w = SerialWriter::<B>::new();
    let _ = write!(w, "model {} on {} cores: top class {} scores", &model::MODEL_SHA256[..16], model::CORES, top);
    for s in scores {
        let _ = write!(w, " {s}");
    }
    let _ = writeln!(w);
    B::exit(0)
}

board::entry!(app);
