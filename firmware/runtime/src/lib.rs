//! arielml firmware runtime: what every generated firmware shares, whatever the board.
//!
//! - `board`: the narrow trait a board-support crate implements (start cores, which core am I,
//!   serial I/O, cycle counter, exit).
//! - `hello`: the first firmware's roll call (every core reports in).
//! - `launch`: core 1 of an RP2040/RP2350 started through its boot ROM FIFO handshake.
//! - `library`: what a generated model library (`--emit lib`) builds on: `Platform`, run, worker.
//! - `protocol`: the framed host <-> device serial protocol.
//! - `fault`: one-line panic, fault and stuck-core reports naming the core and task.
#![no_std]

pub mod arena;
pub mod board;
pub mod consts;
pub mod executor;
pub mod fault;
pub mod hello;
pub mod launch;
pub mod library;
pub mod protocol;
pub mod serve;

/// Tests that set `fault::ACTIVE` (every `infer`) take it, so each sees its own schedule.
#[cfg(test)]
pub(crate) static TEST_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
#[cfg(test)]
extern crate std;
