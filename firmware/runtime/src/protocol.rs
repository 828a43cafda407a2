//! Framed host <-> device serial protocol. THIS COMMENT IS THE REFERENCE for the format;
//! python/arielml/protocol.py implements the host side, and the golden vectors in
//! tests/vectors/protocol/ (checked by both sides' tests) pin it byte for byte.
//!
//! # Frame
//!
//! ```text
//! offset  size  field
//! 0       2     sync      0xA5 0x5A
//! 2       2     len       payload length, u16 little-endian, 0..=MAX_PAYLOAD (1024)
//! 4       2     len_check !len (bitwise complement of len)
//! 6       1     type      message type (below)
//! 7       1     seq       request sequence number; a reply echoes its request's seq
//! 8       len   payload   little-endian fields, per type
//! 8+len   4     crc       CRC-32/ISO-HDLC (zlib's crc32) of bytes 2..8+len, little-endian
//! ```
//!
//! Why the length check: a receiver must know a length is bad *before* waiting for that
//! many bytes, or one flipped bit in `len` swallows the next frames. With it, a false sync
//! inside garbage or payload survives the header with odds of 1 in 65536.
//! Why CRC-32: 1 KiB payloads are past where CRC-16 keeps its guarantees, and Python has
//! it in `zlib`. All multi-byte integers are little-endian.
//!
//! # Messages
//!
//! Requests (host -> device) are 0x01..=0x7F; replies (device -> host) have bit 7 set.
//! The host sends one request and waits for its reply (stop-and-wait: the device needs
//! no receive buffer beyond one frame and no flow control).
//!
//! ```text
//! 0x01 HELLO       u16 host protocol version             -> 0x81 HELLO_REPLY
//! 0x81 HELLO_REPLY u16 version, u8 cores, u16 max_payload, u64 model id,
//!                  u8 n + board name (UTF-8), u8 n + firmware id (UTF-8)
//! 0x02 PING        any bytes                              -> 0x82 PONG, the same bytes
//! 0x03 SET_INPUT   u8 tensor, u32 offset, bytes           -> 0x80 ACK
//! 0x04 RUN         (empty); replies when the run is over  -> 0x80 ACK
//! 0x05 GET_OUTPUT  u8 tensor, u32 offset, u16 max bytes   -> 0x85 OUTPUT
//! 0x85 OUTPUT      u8 tensor, u32 tensor size, u32 offset, bytes
//! 0x06 GET_CYCLES  u16 first task                         -> 0x86 CYCLES
//! 0x86 CYCLES      u64 total, u16 task count, u16 first task, u32 cycles per task...
//! 0x80 ACK         u8 type of the request acknowledged
//! 0xFF ERROR       u8 code, u8 type of the failed request (0: unknown), UTF-8 text
//!                  (at most 64 bytes)
//! ```
//!
//! Tensors larger than a frame go through several SET_INPUT / GET_OUTPUT frames at
//! increasing offsets; `max_payload` in HELLO_REPLY tells the host how big they may be.
//! Per-task cycle arrays longer than a frame are fetched the same way with GET_CYCLES.
//!
//! # Errors and resynchronisation
//!
//! The decoder never stops: a header whose check fails, a length beyond the buffer, or a
//! CRC mismatch is reported once as a `Fault`, and the decoder rescans the bytes after that
//! frame's first sync byte (a truncated frame may have swallowed the start of the next
//! one). Bytes skipped while hunting for sync are reported as one GARBAGE fault just before
//! the next event. The device answers each fault with an ERROR frame whose seq is
//! `SEQ_NONE` (0xFF), which hosts therefore never use for requests.

mod messages;
#[cfg(test)]
mod tests;

pub use messages::*;

pub const SYNC: [u8; 2] = [0xA5, 0x5A];
pub const PROTOCOL_VERSION: u16 = 1;
/// Largest payload any peer may send; a device may accept less (HELLO_REPLY says).
pub const MAX_PAYLOAD: usize = 1024;
pub const HEADER: usize = 8;
pub const OVERHEAD: usize = HEADER + 4;
/// Decoder buffer that holds a full-size frame.
pub const FRAME_BUF: usize = MAX_PAYLOAD + OVERHEAD;
/// Seq of replies that answer no decodable request (ERROR frames for faults).
pub const SEQ_NONE: u8 = 0xFF;

/// Why a frame could not be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    PayloadTooLong,
}

// ---------------------------------------------------------------------------- CRC-32

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

// Built at compile time: 1 KiB of flash buys a byte per table lookup instead of 8 shifts,
// which matters when a 27 KiB input arrives at several Mbit/s.
static CRC_TABLE: [u32; 256] = crc_table();

/// Running CRC-32/ISO-HDLC (poly 0x04C11DB7 reflected, init and xorout 0xFFFFFFFF).
#[derive(Clone, Copy)]
pub struct Crc32(u32);

impl Crc32 {
    pub const fn new() -> Self {
        Crc32(0xFFFF_FFFF)
    }
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = CRC_TABLE[((self.0 ^ b as u32) & 0xFF) as usize] ^ (self.0 >> 8);
        }
    }
    pub const fn finish(self) -> u32 {
        !self.0
    }
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(bytes);
    c.finish()
}

// ---------------------------------------------------------------------------- encoder

/// Streams one frame into a byte sink, payload given in pieces (header fields, then a
/// slice of the arena) so nothing is copied into a staging buffer.
///
/// The payload length is declared up front; bytes past it are dropped and a shortfall is
/// zero-padded by `finish`, so the frame on the wire is always well formed.
pub struct FrameWriter<'s, S: FnMut(u8) + ?Sized> {
    sink: &'s mut S,
    crc: Crc32,
    left: usize,
}

impl<'s, S: FnMut(u8) + ?Sized> FrameWriter<'s, S> {
    pub fn begin(ty: u8, seq: u8, len: usize, sink: &'s mut S) -> Result<Self, EncodeError> {
        if len > MAX_PAYLOAD {
            return Err(EncodeError::PayloadTooLong);
        }
        let n = (len as u16).to_le_bytes();
        let check = (!(len as u16)).to_le_bytes();
        let head = [n[0], n[1], check[0], check[1], ty, seq];
        sink(SYNC[0]);
        sink(SYNC[1]);
        let mut w = FrameWriter {
            sink,
            crc: Crc32::new(),
            left: 0,
        };
        w.emit(&head);
        w.left = len;
        Ok(w)
    }

    fn emit(&mut self, bytes: &[u8]) {
        self.crc.update(bytes);
        for &b in bytes {
            (self.sink)(b);
        }
    }

    pub fn put(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(self.left);
        self.emit(&bytes[..n]);
        self.left -= n;
    }

    pub fn finish(mut self) {
        while self.left > 0 {
            self.put(&[0]);
        }
        for b in self.crc.finish().to_le_bytes() {
            (self.sink)(b);
        }
    }
}

/// One whole frame from a contiguous payload.
pub fn write_frame<S: FnMut(u8) + ?Sized>(
    ty: u8,
    seq: u8,
    payload: &[u8],
    sink: &mut S,
) -> Result<(), EncodeError> {
    let mut w = FrameWriter::begin(ty, seq, payload.len(), sink)?;
    w.put(payload);
    w.finish();
    Ok(())
}

// ---------------------------------------------------------------------------- decoder

/// A complete, CRC-checked frame; `payload` borrows the decoder's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub ty: u8,
    pub seq: u8,
    pub payload: &'a [u8],
}

/// Something wrong on the wire; `count` is the number of skipped bytes for GARBAGE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub code: ErrorCode,
    pub count: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    Frame(Frame<'a>),
    Fault(Fault),
}

enum Step {
    NeedMore,
    Again,
    Report(Fault),
    Frame { len: usize },
}

/// Incremental frame decoder over a fixed `N`-byte buffer (frames up to `N - OVERHEAD`
/// bytes of payload; `FRAME_BUF` fits any frame). No heap, no panics on any input.
///
/// Use: `push` each byte, then `poll` until it returns `None` (one byte can complete a
/// frame hidden in the remains of a bad one, so there may be two events). The events
/// depend only on the byte stream, never on how it was split; the Python decoder produces
/// the same ones. A device loop looks like:
///
/// ```ignore
/// dec.push(byte);
/// while let Some(ev) = dec.poll() {
///     match ev {
///         Event::Frame(f) => match Request::parse(&f) {
///             Ok(req) => serve(f.seq, req, &mut sink),
///             Err(code) => write_error(f.seq, code, f.ty, code.text(), &mut sink)?,
///         },
///         Event::Fault(fault) => write_fault(&fault, &mut sink),
///     }
/// }
/// ```
pub struct Decoder<const N: usize> {
    buf: [u8; N],
    start: usize,
    end: usize,
    /// Leading bytes already blamed on a reported fault: rescanning them stays quiet.
    blamed: usize,
    garbage: u16,
    /// Length of the frame handed out by the last `poll`, dropped on the next call.
    release: usize,
}

impl<const N: usize> Default for Decoder<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Decoder<N> {
    const ROOM: () = assert!(N >= OVERHEAD, "decoder buffer smaller than an empty frame");

    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::ROOM;
        Decoder {
            buf: [0; N],
            start: 0,
            end: 0,
            blamed: 0,
            garbage: 0,
            release: 0,
        }
    }

    /// Largest payload this decoder accepts (what HELLO_REPLY advertises).
    pub const fn max_payload(&self) -> usize {
        N - OVERHEAD
    }

    /// `push` then the first `poll`; if it returns an event, `poll` for more before the
    /// next byte.
    pub fn feed(&mut self, byte: u8) -> Option<Event<'_>> {
        self.push(byte);
        self.poll()
    }

    pub fn push(&mut self, byte: u8) {
        self.drop_released();
        if self.end == N {
            self.compact();
        }
        if self.end == N {
            // Only reachable if the caller skipped `poll`: lose the oldest byte, not the new.
            self.skip_garbage();
            self.compact();
        }
        self.buf[self.end] = byte;
        self.end += 1;
    }

    pub fn poll(&mut self) -> Option<Event<'_>> {
        self.drop_released();
        loop {
            match self.step() {
                Step::NeedMore => return None,
                Step::Again => continue,
                Step::Report(fault) => return Some(Event::Fault(fault)),
                Step::Frame { len } => {
                    let at = self.start;
                    let (ty, seq) = (self.buf[at + 6], self.buf[at + 7]);
                    let payload = &self.buf[at + HEADER..at + HEADER + len];
                    return Some(Event::Frame(Frame { ty, seq, payload }));
                }
            }
        }
    }

    fn compact(&mut self) {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
    }

    fn drop_released(&mut self) {
        let n = self.release.min(self.end - self.start);
        self.start += n;
        self.blamed = self.blamed.saturating_sub(n);
        self.release = 0;
    }

    fn skip_garbage(&mut self) {
        if self.blamed == 0 {
            self.garbage = self.garbage.saturating_add(1);
        }
        self.start += 1;
        self.blamed = self.blamed.saturating_sub(1);
    }

    /// Garbage is owed a report before any later event, so that events stay in wire order.
    fn flush_garbage(&mut self) -> Option<Step> {
        if self.garbage == 0 {
            return None;
        }
        let count = core::mem::take(&mut self.garbage);
        Some(Step::Report(Fault {
            code: ErrorCode::Garbage,
            count,
        }))
    }

    fn step(&mut self) -> Step {
        let avail = &self.buf[self.start..self.end];
        if avail.is_empty() {
            return Step::NeedMore;
        }
        if avail[0] != SYNC[0] || (avail.len() > 1 && avail[1] != SYNC[1]) {
            self.skip_garbage();
            return Step::Again;
        }
        if avail.len() < HEADER {
            return Step::NeedMore;
        }
        let len = u16::from_le_bytes([avail[2], avail[3]]);
        let check = u16::from_le_bytes([avail[4], avail[5]]);
        let total = len as usize + OVERHEAD;
        let (fault, seen) = if check != !len {
            (ErrorCode::BadLength, HEADER)
        } else if total > N {
            (ErrorCode::TooLong, HEADER)
        } else if avail.len() < total {
            return Step::NeedMore;
        } else {
            let body = &avail[2..HEADER + len as usize];
            let tail = &avail[total - 4..total];
            if crc32(body) == u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]) {
                if let Some(report) = self.flush_garbage() {
                    return report;
                }
                self.release = total;
                return Step::Frame { len: len as usize };
            }
            (ErrorCode::BadCrc, total)
        };
        self.reject(fault, seen)
    }

    /// Drop the bad frame's first sync byte and rescan the rest. Report the fault only if
    /// the `seen` bytes it rests on reach past bytes already blamed on an earlier fault:
    /// one fault per bad frame, however many false syncs hide in its remains.
    fn reject(&mut self, code: ErrorCode, seen: usize) -> Step {
        if let Some(report) = self.flush_garbage() {
            return report;
        }
        let fresh = seen > self.blamed;
        self.blamed = self.blamed.max(seen) - 1;
        self.start += 1;
        if fresh {
            Step::Report(Fault { code, count: 0 })
        } else {
            Step::Again
        }
    }
}
