//! Host tests of the protocol: golden vectors shared with the Python side, and a
//! never-panic check on garbage and bit-flipped frames.

extern crate std;

use super::*;
use std::string::String;
use std::vec::Vec;
use std::{format, fs, vec};

#[derive(Debug, PartialEq, Eq)]
enum Ev {
    Frame(u8, u8, Vec<u8>),
    Fault(u8, u16),
}

fn collect<const N: usize>(dec: &mut Decoder<N>, bytes: &[u8]) -> Vec<Ev> {
    let mut out = Vec::new();
    for &b in bytes {
        dec.push(b);
        while let Some(ev) = dec.poll() {
            out.push(match ev {
                Event::Frame(f) => Ev::Frame(f.ty, f.seq, f.payload.to_vec()),
                Event::Fault(f) => Ev::Fault(f.code as u8, f.count),
            });
        }
    }
    out
}

fn decode_all(bytes: &[u8]) -> Vec<Ev> {
    collect(&mut Decoder::<FRAME_BUF>::new(), bytes)
}

fn unhex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn vector_file(name: &str) -> String {
    let path = format!(
        "{}/../../tests/vectors/protocol/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

struct Golden {
    name: String,
    ty: u8,
    seq: u8,
    payload: Vec<u8>,
    frame: Vec<u8>,
}

fn frames() -> Vec<Golden> {
    let text = vector_file("frames.txt");
    let rows = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    rows.map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        Golden {
            name: f[0].into(),
            ty: f[1].parse().unwrap(),
            seq: f[2].parse().unwrap(),
            payload: unhex(f[3]),
            frame: unhex(f[4]),
        }
    })
    .collect()
}

fn golden(name: &str) -> Vec<u8> {
    frames()
        .into_iter()
        .find(|g| g.name == name)
        .expect(name)
        .frame
}

fn encoded(f: impl FnOnce(&mut dyn FnMut(u8))) -> Vec<u8> {
    let mut out = Vec::new();
    f(&mut |b| out.push(b));
    out
}

#[test]
fn crc32_check_value() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
}

#[test]
fn golden_frames_decode_and_reencode() {
    let all = frames();
    assert!(all.len() >= 10);
    for g in &all {
        let want = vec![Ev::Frame(g.ty, g.seq, g.payload.clone())];
        assert_eq!(decode_all(&g.frame), want, "{}", g.name);
        let again = encoded(|s| write_frame(g.ty, g.seq, &g.payload, s).unwrap());
        assert_eq!(again, g.frame, "{}", g.name);
    }
}

/// The request in a golden frame; `golden_frames_decode_and_reencode` already proved the
/// decoder yields exactly these header fields and payload bytes.
fn parse_golden(name: &str) -> Request<'static> {
    let bytes: &'static [u8] = Vec::leak(golden(name));
    let frame = Frame {
        ty: bytes[6],
        seq: bytes[7],
        payload: &bytes[HEADER..bytes.len() - 4],
    };
    Request::parse(&frame).unwrap()
}

// Field values mirror MESSAGES in tests/vectors/protocol/make_vectors.py.
#[test]
fn golden_requests_parse() {
    assert_eq!(parse_golden("hello"), Request::Hello { version: 1 });
    assert_eq!(parse_golden("ping_empty"), Request::Ping(&[]));
    let data: Vec<u8> = (0..16).collect();
    assert_eq!(parse_golden("ping"), Request::Ping(&data));
    let input: Vec<u8> = (0..1019u32).map(|i| ((i * 7 + 3) & 0xFF) as u8).collect();
    assert_eq!(
        parse_golden("set_input_full"),
        Request::SetInput {
            tensor: 0,
            offset: 3057,
            data: &input
        }
    );
    assert_eq!(parse_golden("run"), Request::Run);
    let want = Request::GetOutput {
        tensor: 1,
        offset: 2030,
        max_len: 1015,
    };
    assert_eq!(parse_golden("get_output"), want);
    assert_eq!(parse_golden("get_cycles"), Request::GetCycles { first: 0 });
}

#[test]
fn golden_replies_encode() {
    let hello = HelloReply {
        version: 1,
        cores: 2,
        max_payload: 1024,
        model_id: 0x0123_4567_89AB_CDEF,
        board: "mps2-an500",
        firmware: "hello 0.1.0",
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "hello_reply",
            encoded(|s| write_hello_reply(0, &hello, s).unwrap()),
        ),
        (
            "pong",
            encoded(|s| write_pong(2, &(0..16).collect::<Vec<u8>>(), s).unwrap()),
        ),
        (
            "ack_set_input",
            encoded(|s| write_ack(3, ty::SET_INPUT, s).unwrap()),
        ),
        ("ack_run", encoded(|s| write_ack(4, ty::RUN, s).unwrap())),
        (
            "output",
            encoded(|s| {
                let data = [0xA5, 0x5A, 0, 1, 2, 3, 0xFF, 0x80, 0x7F, 9];
                write_output(5, 1, 2040, 2030, &data, s).unwrap()
            }),
        ),
        (
            "cycles",
            encoded(|s| {
                let per_task = [1000, 2000, 0xFFFF_FFFF];
                write_cycles(6, 123_456_789_012, 3, 0, &per_task, s).unwrap()
            }),
        ),
        (
            "error",
            encoded(|s| {
                write_error(7, ErrorCode::BadTensor, ty::SET_INPUT, "tensor 7 of 2", s).unwrap()
            }),
        ),
        (
            "fault_bad_crc",
            encoded(|s| {
                write_fault(
                    &Fault {
                        code: ErrorCode::BadCrc,
                        count: 0,
                    },
                    s,
                )
            }),
        ),
        (
            "fault_garbage",
            encoded(|s| {
                write_fault(
                    &Fault {
                        code: ErrorCode::Garbage,
                        count: 3,
                    },
                    s,
                )
            }),
        ),
    ];
    for (name, bytes) in cases {
        assert_eq!(bytes, golden(name), "{name}");
    }
}

#[test]
fn golden_streams() {
    let text = vector_file("streams.txt");
    let (mut name, mut input, mut want, mut seen) = (String::new(), Vec::new(), Vec::new(), 0);
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f[0] {
            "stream" => (name, input, want) = (f[1].into(), unhex(f[2]), Vec::new()),
            "frame" => want.push(Ev::Frame(
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                unhex(f[3]),
            )),
            "fault" => want.push(Ev::Fault(f[1].parse().unwrap(), f[2].parse().unwrap())),
            "end" => {
                assert_eq!(decode_all(&input), want, "stream {name}");
                seen += 1;
            }
            other => panic!("streams.txt: unknown line kind {other}"),
        }
    }
    assert!(seen >= 10);
}

#[test]
fn malformed_requests_are_rejected() {
    fn bad(ty: u8, payload: &[u8]) -> Result<Request<'_>, ErrorCode> {
        Request::parse(&Frame {
            ty,
            seq: 0,
            payload,
        })
    }
    assert_eq!(bad(0x42, &[]), Err(ErrorCode::UnknownType));
    assert_eq!(bad(ty::HELLO, &[1]), Err(ErrorCode::BadPayload));
    assert_eq!(bad(ty::HELLO, &[1, 0, 0]), Err(ErrorCode::BadPayload));
    assert_eq!(
        bad(ty::SET_INPUT, &[0, 1, 2, 3]),
        Err(ErrorCode::BadPayload)
    );
    assert_eq!(bad(ty::RUN, &[0]), Err(ErrorCode::BadPayload));
    assert_eq!(bad(ty::GET_OUTPUT, &[0; 6]), Err(ErrorCode::BadPayload));
    assert_eq!(bad(ty::ACK, &[1]), Err(ErrorCode::UnknownType));
}

#[test]
fn encoder_limits() {
    let mut sink = |_b: u8| {};
    let big = [0u8; MAX_PAYLOAD + 1];
    assert_eq!(
        write_frame(1, 0, &big, &mut sink),
        Err(EncodeError::PayloadTooLong)
    );
    // A writer that is given too few or too many bytes still emits a valid frame.
    let short = encoded(|s| {
        let mut w = FrameWriter::begin(ty::PING, 9, 4, s).unwrap();
        w.put(&[1, 2]);
        w.finish();
    });
    assert_eq!(
        decode_all(&short),
        vec![Ev::Frame(ty::PING, 9, vec![1, 2, 0, 0])]
    );
    let long = encoded(|s| {
        let mut w = FrameWriter::begin(ty::PING, 9, 1, s).unwrap();
        w.put(&[7, 8, 9]);
        w.finish();
    });
    assert_eq!(decode_all(&long), vec![Ev::Frame(ty::PING, 9, vec![7])]);
}

#[test]
fn small_decoder_rejects_big_frames_and_recovers() {
    let mut dec = Decoder::<32>::new();
    assert_eq!(dec.max_payload(), 20);
    let mut stream = golden("set_input_full");
    stream.extend(golden("ack_run"));
    let evs = collect(&mut dec, &stream);
    assert_eq!(evs.first(), Some(&Ev::Fault(ErrorCode::TooLong as u8, 0)));
    assert_eq!(evs.last(), Some(&Ev::Frame(ty::ACK, 4, vec![ty::RUN])));
}

/// xorshift64: deterministic pseudo-random bytes without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn byte(&mut self) -> u8 {
        // Bias towards sync bytes so false syncs and headers really get exercised.
        match self.next() % 8 {
            0 => SYNC[0],
            1 => SYNC[1],
            _ => self.next() as u8,
        }
    }
}

#[test]
fn garbage_never_panics_and_good_frames_get_through() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let good = golden("ping");
    let mut dec = Decoder::<FRAME_BUF>::new();
    let mut tiny = Decoder::<OVERHEAD>::new();
    for round in 0..200 {
        let noise: Vec<u8> = (0..rng.next() % 2000).map(|_| rng.byte()).collect();
        collect(&mut tiny, &noise);
        collect(&mut dec, &noise);
        // Noise may leave a false frame open; the good frames close it and get rescanned.
        let mut after = good.clone();
        after.extend(&good);
        let evs = collect(&mut dec, &after);
        let hits = evs
            .iter()
            .filter(|e| matches!(e, Ev::Frame(ty::PING, 2, _)))
            .count();
        assert!(
            hits >= 1,
            "round {round}: good frames lost after noise: {evs:?}"
        );
    }
}

#[test]
fn every_single_bit_flip_is_caught_and_the_next_frame_survives() {
    let next = golden("ack_run");
    for g in frames().iter().filter(|g| g.frame.len() < 64) {
        for bit in 0..g.frame.len() * 8 {
            let mut bad = g.frame.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            bad.extend(&next);
            let evs = decode_all(&bad);
            let frames: Vec<&Ev> = evs.iter().filter(|e| matches!(e, Ev::Frame(..))).collect();
            let want = Ev::Frame(ty::ACK, 4, vec![ty::RUN]);
            assert_eq!(frames, vec![&want], "{} bit {bit}: {evs:?}", g.name);
            assert_eq!(evs.last(), Some(&want), "{} bit {bit}", g.name);
        }
    }
}

#[test]
fn pushing_without_polling_never_overflows() {
    let mut dec = Decoder::<64>::new();
    let mut rng = Rng(42);
    for _ in 0..10_000 {
        dec.push(rng.byte());
    }
    while dec.poll().is_some() {}
    let evs = collect(&mut dec, &golden("run"));
    assert_eq!(evs.last(), Some(&Ev::Frame(ty::RUN, 4, vec![])));
}
