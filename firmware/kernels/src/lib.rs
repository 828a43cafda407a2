//! Neural-network kernels for arielml: plain functions over slices, no_std and no heap.
//!
//! Kernels never see cores, arenas or the graph: they take parameters, input and output
//! slices and a tile (the range of output rows or channels to compute). int8 kernels
//! follow TensorFlow Lite Micro's reference kernels bit for bit; their requantization
//! parameters are computed ahead of time by `arielml.quant`.
#![no_std]

pub mod activations;
pub mod conv;
pub mod depthwise;
pub mod elementwise;
pub mod fixedpoint;
pub mod fully_connected;
pub mod pooling;
pub mod requant;
pub mod softmax;
pub mod tile;

pub use tile::{Shape4, Tile, Window2d};
