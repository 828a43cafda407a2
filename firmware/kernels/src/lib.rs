//! Neural-network kernels for arielml: plain functions over slices, no_std and no heap.
//!
//! Kernels never see cores, arenas or the graph: they take parameters, input and output
//! slices and a tile (the range of output rows or channels to compute).
#![no_std]
