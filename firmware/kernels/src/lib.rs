//! Neural-network kernels for arielml: plain functions over slices, no_std and no heap.
//!
//! Kernels never see cores, arenas or the graph: they take parameters, input and output
//! slices and a tile (the range of output rows or channels to compute). int8 kernels
//! follow TensorFlow Lite Micro's reference kernels bit for bit; their requantization
//! parameters are computed ahead of time by `arielml.quant`. float32 kernels sum in
//! TFLM's order; where TFLM calls the C library (exp, tanh) they agree to about 1e-7
//! relative, and are tested to 1e-5.
//!
//! Tiles: ops over NHWC ([`Shape4`]) tile output rows (H) and channels (C). The shape
//! ops of rank <= 5 ([`memory`], [`reduce`]) pad shapes to rank 5 ([`ShapeN`]) and tile
//! dim 2 and the last dim, which is the same thing for a 4-D tensor. CONCATENATION and
//! SPLIT also split by operand: one call per input (or output).
//!
//! # Outputs are shared cells
//!
//! Every kernel writes its output through [`tile::Out`] (`&[Cell<T>]`), not `&mut [T]`.
//! The multi-core runtime runs disjoint tiles of one op on several cores at once over the
//! same output buffer; two live `&mut` slices of one buffer would be undefined behaviour
//! even though their writes never overlap, while several `&[Cell<T>]` over it are sound
//! as long as these rules hold:
//!
//! - a kernel call writes only the output elements inside its tile (and may read back
//!   only those it wrote itself, as float SOFTMAX does);
//! - tiles that run at the same time are disjoint, so no element is accessed by two
//!   cores concurrently;
//! - inputs (`&[T]`) never alias an output that is being written.
//!
//! `Cell` is not `Sync`, so Rust will not hand one `&[Cell<T>]` to another thread: each
//! core's runtime builds its own view of the arena (`slice::from_raw_parts` over
//! `*const Cell<T>`), and the scheduler's disjoint tiles are what make that sound.
//! Host code with a `&mut [T]` in hand uses [`tile::cells`]. `Cell::set` on `i8`/`f32`
//! compiles to the same single store as a `&mut` write.
#![no_std]

// First: `params!` is used by the modules below.
#[macro_use]
pub mod params;

pub mod activations;
pub mod activations_f32;
pub mod conv;
pub mod depthwise;
pub mod elementwise;
pub mod fixedpoint;
pub mod fully_connected;
pub mod gemm;
pub mod hard_swish;
pub mod math_f32;
pub mod memory;
pub mod pooling;
pub mod reduce;
pub mod requant;
mod simd;
pub mod softmax;
pub mod tile;

pub use tile::{cells, Out, Shape4, ShapeN, Tile, Window2d};
