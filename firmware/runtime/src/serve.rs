//! Core 0's loop on a device: answer the host's protocol requests and run inferences.

use core::sync::atomic::Ordering;

use crate::board::Board;
use crate::executor::{self, Schedule};
use crate::protocol::{
    ty, write_ack, write_cycles, write_error, write_fault, write_hello_reply, write_output, write_pong,
    Decoder, ErrorCode, Event, HelloReply, Request, CYCLES_ROOM, FRAME_BUF, MAX_PAYLOAD, OUTPUT_ROOM,
    PROTOCOL_VERSION,
};

/// Where one model input or output lives in the arena.
#[derive(Clone, Copy)]
pub struct Slot {
    pub offset: usize,
    pub len: usize,
}

/// What the generated crate tells the server about its model.
pub struct Model {
    pub id: u64,
    pub inputs: &'static [Slot],
    pub outputs: &'static [Slot],
    pub schedule: &'static Schedule,
    /// Bytes `len` at `offset` of the arena, for the host link (see `Arena::bytes`).
    pub bytes: unsafe fn(usize, usize) -> &'static mut [u8],
}

pub struct Server {
    dec: Decoder<FRAME_BUF>,
    last_ticks: u64,
}

const FIRMWARE: &str = concat!("arielml ", env!("CARGO_PKG_VERSION"));

impl Server {
    pub const fn new() -> Self {
        Server { dec: Decoder::new(), last_ticks: 0 }
    }

    /// Take one byte from the host; answer every complete request through `sink`.
    pub fn feed<B: Board>(&mut self, model: &Model, byte: u8, sink: &mut dyn FnMut(u8)) {
        self.dec.push(byte);
        let mut ticks = self.last_ticks;
        while let Some(event) = self.dec.poll() {
            match event {
                Event::Frame(f) => match Request::parse(&f) {
                    Ok(req) => {
                        if let Err(code) = handle::<B>(model, f.seq, req, &mut ticks, sink) {
                            let _ = write_error(f.seq, code, f.ty, code.text(), sink);
                        }
                    }
                    Err(code) => {
                        let _ = write_error(f.seq, code, f.ty, code.text(), sink);
                    }
                },
                Event::Fault(fault) => write_fault(&fault, sink),
            }
        }
        self.last_ticks = ticks;
    }
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

fn slot(slots: &[Slot], tensor: u8, offset: u32, len: usize) -> Result<(Slot, usize), ErrorCode> {
    let s = *slots.get(tensor as usize).ok_or(ErrorCode::BadTensor)?;
    let offset = offset as usize;
    if offset > s.len || len > s.len - offset {
        return Err(ErrorCode::OutOfRange);
    }
    Ok((s, offset))
}

fn handle<B: Board>(m: &Model, seq: u8, req: Request, ticks: &mut u64, sink: &mut dyn FnMut(u8)) -> Result<(), ErrorCode> {
    let sent = match req {
        Request::Hello { version } if version != PROTOCOL_VERSION => return Err(ErrorCode::Version),
        Request::Hello { .. } => {
            let hello = HelloReply {
                version: PROTOCOL_VERSION,
                cores: m.schedule.cores.len() as u8,
                max_payload: MAX_PAYLOAD as u16,
                model_id: m.id,
                board: B::NAME,
                firmware: FIRMWARE,
            };
            write_hello_reply(seq, &hello, sink)
        }
        Request::Ping(data) => write_pong(seq, data, sink),
        Request::SetInput { tensor, offset, data } => {
            let (s, off) = slot(m.inputs, tensor, offset, data.len())?;
            // SAFETY: between inferences, on the serving core.
            unsafe { (m.bytes)(s.offset + off, data.len()) }.copy_from_slice(data);
            write_ack(seq, ty::SET_INPUT, sink)
        }
        Request::Run => {
            let start = B::counter();
            executor::infer::<B>(m.schedule);
            *ticks = u64::from(B::counter().wrapping_sub(start));
            write_ack(seq, ty::RUN, sink)
        }
        Request::GetOutput { tensor, offset, max_len } => {
            let s = *m.outputs.get(tensor as usize).ok_or(ErrorCode::BadTensor)?;
            let len = (max_len as usize).min(OUTPUT_ROOM).min(s.len.saturating_sub(offset as usize));
            let (s, off) = slot(m.outputs, tensor, offset, len)?;
            // SAFETY: between inferences, on the serving core.
            let data = unsafe { (m.bytes)(s.offset + off, len) };
            write_output(seq, tensor, s.len as u32, off as u32, data, sink)
        }
        Request::GetCycles { first } => {
            let n = m.schedule.ticks.len();
            let first = (first as usize).min(n);
            let mut buf = [0u32; CYCLES_ROOM];
            let count = (n - first).min(CYCLES_ROOM);
            for (i, b) in buf[..count].iter_mut().enumerate() {
                *b = m.schedule.ticks[first + i].load(Ordering::Relaxed);
            }
            write_cycles(seq, *ticks, n as u16, first as u16, &buf[..count], sink)
        }
    };
    sent.map_err(|_| ErrorCode::RunFailed)
}

/// Core 0 on a device: serve the host forever.
pub fn run<B: Board>(model: &Model) -> ! {
    let mut server = Server::new();
    let mut sink = |b: u8| B::serial_write(&[b]);
    loop {
        if let Some(byte) = B::serial_read() {
            server.feed::<B>(model, byte, &mut sink);
        } else {
            core::hint::spin_loop();
        }
    }
}
