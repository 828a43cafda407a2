//! Model constants (weights, biases, requantization tables) in flash, as one aligned
//! byte blob that the generated crate includes; tasks take typed views of it.

use crate::arena::Element;

#[repr(C, align(8))]
pub struct Blob<const N: usize>(pub [u8; N]);

impl<const N: usize> Blob<N> {
    /// `len` elements of type T at byte `offset` (little-endian, as every target is).
    pub fn view<T: Element>(&'static self, offset: usize, len: usize) -> &'static [T] {
        let bytes = len * core::mem::size_of::<T>();
        assert!(offset % core::mem::align_of::<T>() == 0 && offset + bytes <= N, "constant view out of bounds");
        // SAFETY: in bounds and aligned (checked; the blob itself is 8-aligned); the data
        // is immutable and every bit pattern is a valid T (Element).
        unsafe { core::slice::from_raw_parts(self.0.as_ptr().add(offset).cast::<T>(), len) }
    }
}
