//! Message payloads: parsing the host's requests, writing the device's replies.
//! The layouts are specified in the table at the top of protocol.rs.

use super::{EncodeError, Fault, Frame, FrameWriter, MAX_PAYLOAD, SEQ_NONE};

/// Message type bytes.
pub mod ty {
    pub const HELLO: u8 = 0x01;
    pub const PING: u8 = 0x02;
    pub const SET_INPUT: u8 = 0x03;
    pub const RUN: u8 = 0x04;
    pub const GET_OUTPUT: u8 = 0x05;
    pub const GET_CYCLES: u8 = 0x06;
    pub const ACK: u8 = 0x80;
    pub const HELLO_REPLY: u8 = 0x81;
    pub const PONG: u8 = 0x82;
    pub const OUTPUT: u8 = 0x85;
    pub const CYCLES: u8 = 0x86;
    pub const ERROR: u8 = 0xFF;
}

/// ERROR codes. 1..=15 are link faults (from the decoder), 16.. are request failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ErrorCode {
    Garbage = 1,
    BadLength = 2,
    TooLong = 3,
    BadCrc = 4,
    UnknownType = 16,
    BadPayload = 17,
    BadTensor = 18,
    OutOfRange = 19,
    Version = 20,
    RunFailed = 21,
}

impl ErrorCode {
    /// The text sent in ERROR frames for link faults: short, since the host adds context.
    pub const fn text(self) -> &'static str {
        match self {
            ErrorCode::Garbage => "garbage before frame",
            ErrorCode::BadLength => "bad length check",
            ErrorCode::TooLong => "frame too long",
            ErrorCode::BadCrc => "bad crc",
            ErrorCode::UnknownType => "unknown message type",
            ErrorCode::BadPayload => "malformed payload",
            ErrorCode::BadTensor => "no such tensor",
            ErrorCode::OutOfRange => "out of range",
            ErrorCode::Version => "protocol version mismatch",
            ErrorCode::RunFailed => "run failed",
        }
    }
}

/// A request from the host, borrowing its bytes from the decoder's frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    Hello {
        version: u16,
    },
    Ping(&'a [u8]),
    SetInput {
        tensor: u8,
        offset: u32,
        data: &'a [u8],
    },
    Run,
    GetOutput {
        tensor: u8,
        offset: u32,
        max_len: u16,
    },
    GetCycles {
        first: u16,
    },
}

/// Little-endian field reader that fails (instead of panicking) on short input.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take<const K: usize>(&mut self) -> Option<[u8; K]> {
        let (head, rest) = (self.0.get(..K)?, self.0.get(K..)?);
        self.0 = rest;
        head.try_into().ok()
    }
    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take().map(u16::from_le_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    fn end(self) -> Option<()> {
        self.0.is_empty().then_some(())
    }
}

impl<'a> Request<'a> {
    pub fn parse(frame: &Frame<'a>) -> Result<Self, ErrorCode> {
        let mut r = Reader(frame.payload);
        let req = match frame.ty {
            ty::HELLO => r.u16().map(|version| Request::Hello { version }),
            ty::PING => Some(Request::Ping(frame.payload)),
            ty::SET_INPUT => (|| {
                let (tensor, offset) = (r.u8()?, r.u32()?);
                Some(Request::SetInput {
                    tensor,
                    offset,
                    data: r.0,
                })
            })(),
            ty::RUN => Some(Request::Run),
            ty::GET_OUTPUT => (|| {
                let (tensor, offset, max_len) = (r.u8()?, r.u32()?, r.u16()?);
                Some(Request::GetOutput {
                    tensor,
                    offset,
                    max_len,
                })
            })(),
            ty::GET_CYCLES => r.u16().map(|first| Request::GetCycles { first }),
            _ => return Err(ErrorCode::UnknownType),
        };
        let req = req.ok_or(ErrorCode::BadPayload)?;
        // Fixed-size requests must be exactly their size: extra bytes mean a host bug.
        let exact = !matches!(req, Request::Ping(_) | Request::SetInput { .. });
        if exact && r.end().is_none() {
            return Err(ErrorCode::BadPayload);
        }
        Ok(req)
    }
}

/// What the device says about itself in HELLO_REPLY.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HelloReply<'a> {
    pub version: u16,
    pub cores: u8,
    pub max_payload: u16,
    pub model_id: u64,
    pub board: &'a str,
    pub firmware: &'a str,
}

/// A name as u8 length + bytes; longer names are cut at 255 bytes.
fn short(s: &str) -> &[u8] {
    &s.as_bytes()[..s.len().min(255)]
}

pub fn write_hello_reply<S: FnMut(u8) + ?Sized>(
    seq: u8,
    h: &HelloReply,
    sink: &mut S,
) -> Result<(), EncodeError> {
    let (board, firmware) = (short(h.board), short(h.firmware));
    let len = 2 + 1 + 2 + 8 + 1 + board.len() + 1 + firmware.len();
    let mut w = FrameWriter::begin(ty::HELLO_REPLY, seq, len, sink)?;
    w.put(&h.version.to_le_bytes());
    w.put(&[h.cores]);
    w.put(&h.max_payload.to_le_bytes());
    w.put(&h.model_id.to_le_bytes());
    w.put(&[board.len() as u8]);
    w.put(board);
    w.put(&[firmware.len() as u8]);
    w.put(firmware);
    w.finish();
    Ok(())
}

pub fn write_pong<S: FnMut(u8) + ?Sized>(
    seq: u8,
    data: &[u8],
    sink: &mut S,
) -> Result<(), EncodeError> {
    super::write_frame(ty::PONG, seq, data, sink)
}

pub fn write_ack<S: FnMut(u8) + ?Sized>(
    seq: u8,
    request: u8,
    sink: &mut S,
) -> Result<(), EncodeError> {
    super::write_frame(ty::ACK, seq, &[request], sink)
}

/// Bytes of tensor data an OUTPUT frame can carry.
pub const OUTPUT_ROOM: usize = MAX_PAYLOAD - 9;

pub fn write_output<S: FnMut(u8) + ?Sized>(
    seq: u8,
    tensor: u8,
    size: u32,
    offset: u32,
    data: &[u8],
    sink: &mut S,
) -> Result<(), EncodeError> {
    let mut w = FrameWriter::begin(ty::OUTPUT, seq, 9 + data.len(), sink)?;
    w.put(&[tensor]);
    w.put(&size.to_le_bytes());
    w.put(&offset.to_le_bytes());
    w.put(data);
    w.finish();
    Ok(())
}

/// Per-task counts a CYCLES frame can carry.
pub const CYCLES_ROOM: usize = (MAX_PAYLOAD - 12) / 4;

pub fn write_cycles<S: FnMut(u8) + ?Sized>(
    seq: u8,
    total: u64,
    tasks: u16,
    first: u16,
    cycles: &[u32],
    sink: &mut S,
) -> Result<(), EncodeError> {
    let mut w = FrameWriter::begin(ty::CYCLES, seq, 12 + 4 * cycles.len(), sink)?;
    w.put(&total.to_le_bytes());
    w.put(&tasks.to_le_bytes());
    w.put(&first.to_le_bytes());
    for c in cycles {
        w.put(&c.to_le_bytes());
    }
    w.finish();
    Ok(())
}

/// Longest ERROR text; longer text is cut (at a byte, the host decodes leniently).
pub const ERROR_TEXT: usize = 64;

pub fn write_error<S: FnMut(u8) + ?Sized>(
    seq: u8,
    code: ErrorCode,
    request: u8,
    text: &str,
    sink: &mut S,
) -> Result<(), EncodeError> {
    let text = &text.as_bytes()[..text.len().min(ERROR_TEXT)];
    let mut w = FrameWriter::begin(ty::ERROR, seq, 2 + text.len(), sink)?;
    w.put(&[code as u8, request]);
    w.put(text);
    w.finish();
    Ok(())
}

/// The ERROR frame that answers a decoder fault.
pub fn write_fault<S: FnMut(u8) + ?Sized>(fault: &Fault, sink: &mut S) {
    // Cannot fail: the text is short.
    let _ = write_error(SEQ_NONE, fault.code, 0, fault.code.text(), sink);
}
