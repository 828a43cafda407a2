//! The static activation arena and the typed views tasks take of it.
//!
//! The arena is one `UnsafeCell` byte array. Tasks on several cores read and write it at
//! the same time, which is sound because of what the compiler guarantees and checks
//! before emitting a schedule (python/arielml/arena.py validates the plan):
//! - two buffers that may be in use at the same time never overlap;
//! - a task reads a buffer only after the tasks writing it have published completion
//!   (Release/Acquire on the executor's done words);
//! - tiles of one op write disjoint elements, through `&[Cell<T>]`, which may alias.

use core::cell::{Cell, UnsafeCell};

/// Element types a tensor buffer can hold: plain data, any bit pattern valid.
pub trait Element: Copy + 'static {}
impl Element for i8 {}
impl Element for u8 {}
impl Element for i16 {}
impl Element for i32 {}
impl Element for u32 {}
impl Element for f32 {}

#[repr(C, align(8))]
pub struct Arena<const N: usize>(UnsafeCell<[u8; N]>);

// SAFETY: concurrent access follows the rules in the module docs.
unsafe impl<const N: usize> Sync for Arena<N> {}

impl<const N: usize> Arena<N> {
    pub const fn new() -> Self {
        Arena(UnsafeCell::new([0; N]))
    }

    /// An arena holding `bytes` from boot (the variables' state region: its initial
    /// values come with the image and are never reset between inferences).
    pub const fn with_bytes(bytes: [u8; N]) -> Self {
        Arena(UnsafeCell::new(bytes))
    }

    fn check<T>(offset: usize, len: usize) -> usize {
        let bytes = len * core::mem::size_of::<T>();
        assert!(offset % core::mem::align_of::<T>() == 0 && offset + bytes <= N, "arena view out of bounds");
        bytes
    }

    /// A buffer to read.
    ///
    /// # Safety
    /// No task may write these bytes while the returned slice is alive (the memory plan
    /// and the schedule's dependencies guarantee it for generated code).
    pub unsafe fn read<T: Element>(&self, offset: usize, len: usize) -> &[T] {
        Self::check::<T>(offset, len);
        // SAFETY: in bounds and aligned (checked); no concurrent writer (caller's contract).
        unsafe { core::slice::from_raw_parts(self.0.get().cast::<u8>().add(offset).cast::<T>(), len) }
    }

    /// A buffer to write, possibly shared with other tiles of the same op on other cores.
    ///
    /// # Safety
    /// No one may read these bytes through `read` while the returned slice is alive.
    pub unsafe fn write<T: Element>(&self, offset: usize, len: usize) -> &[Cell<T>] {
        Self::check::<T>(offset, len);
        // SAFETY: in bounds and aligned; Cell<T> has T's layout; writers of one buffer
        // touch disjoint elements and readers wait for them (caller's contract).
        unsafe { core::slice::from_raw_parts(self.0.get().cast::<u8>().add(offset).cast::<Cell<T>>(), len) }
    }

    /// Bytes for the host link (inputs in, outputs out) while no inference runs.
    ///
    /// # Safety
    /// Only between inferences, from the core serving the host.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn bytes(&self, offset: usize, len: usize) -> &mut [u8] {
        Self::check::<u8>(offset, len);
        // SAFETY: in bounds; no task runs between inferences (caller's contract).
        unsafe { core::slice::from_raw_parts_mut(self.0.get().cast::<u8>().add(offset), len) }
    }
}

impl<const N: usize> Default for Arena<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// One core's scratch words for the kernels (gathered input rows): a static per core,
/// used by that core's tasks only, which run one after the other.
#[repr(C, align(8))]
pub struct Scratch<const N: usize>(UnsafeCell<[u32; N]>);

// SAFETY: each Scratch is used by one core only (the generated crate's contract below).
unsafe impl<const N: usize> Sync for Scratch<N> {}

impl<const N: usize> Scratch<N> {
    pub const fn new() -> Self {
        Scratch(UnsafeCell::new([0; N]))
    }

    /// The first `len` words.
    ///
    /// # Safety
    /// Only the tasks of this scratch's core may call it, and a returned slice must be
    /// dead before the next call (a task's kernel call holds it for its duration).
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn words(&self, len: usize) -> &mut [u32] {
        assert!(len <= N, "scratch view out of bounds");
        // SAFETY: in bounds; exclusive by the caller's contract.
        unsafe { core::slice::from_raw_parts_mut(self.0.get().cast::<u32>(), len) }
    }
}

impl<const N: usize> Default for Scratch<N> {
    fn default() -> Self {
        Self::new()
    }
}
