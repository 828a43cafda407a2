"""Protocol codec and decoder: golden vectors (shared with the Rust tests) and properties."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arielml.target import protocol as p

VECTORS = pathlib.Path(__file__).resolve().parents[1] / "vectors" / "protocol"


def _load_maker():
    spec = importlib.util.spec_from_file_location("make_vectors", VECTORS / "make_vectors.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


MAKER = _load_maker()


def unhex(s: str) -> bytes:
    return b"" if s == "-" else bytes.fromhex(s)


def golden_frames():
    for line in (VECTORS / "frames.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, ty, seq, payload, frame = line.split()
            yield name, int(ty), int(seq), unhex(payload), unhex(frame)


def golden_streams():
    streams, current = [], None
    for line in (VECTORS / "streams.txt").read_text().splitlines():
        f = line.split()
        if not f or f[0].startswith("#"):
            continue
        if f[0] == "stream":
            current = (f[1], unhex(f[2]), [])
        elif f[0] == "frame":
            current[2].append(p.Frame(int(f[1]), int(f[2]), unhex(f[3])))
        elif f[0] == "fault":
            current[2].append(p.Fault(p.ErrorCode(int(f[1])), int(f[2])))
        else:
            streams.append(current)
    return streams


def test_vector_files_are_current():
    for name, text in MAKER.render().items():
        assert (VECTORS / name).read_text() == text, f"{name} is stale: run make_vectors.py"


@pytest.mark.parametrize("name,ty,seq,payload,frame", list(golden_frames()))
def test_golden_frame(name, ty, seq, payload, frame):
    assert p.encode_frame(ty, seq, payload) == frame
    assert p.Decoder().feed(frame) == [p.Frame(ty, seq, payload)]
    msg = p.decode(p.Frame(ty, seq, payload))
    assert p.encode(msg, seq) == frame


@pytest.mark.parametrize("name,data,events", golden_streams(), ids=[s[0] for s in golden_streams()])
def test_golden_stream_any_chunking(name, data, events):
    assert p.Decoder().feed(data) == events
    dec = p.Decoder()
    assert [ev for b in data for ev in dec.feed(bytes([b]))] == events


def test_some_streams_exist():
    assert len(golden_streams()) >= 10


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_chunking_never_changes_events(data):
    name, stream, events = data.draw(st.sampled_from(golden_streams()))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    dec, got, prev = p.Decoder(), [], 0
    for cut in [*cuts, len(stream)]:
        got += dec.feed(stream[prev:cut])
        prev = cut
    assert got == events, name


GOOD = p.encode(p.Ack(4), 4)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.binary(max_size=300).map(lambda b: b.replace(b"Z", b"\xa5")))
def test_garbage_then_good_frames(noise, salt):
    dec = p.Decoder()
    dec.feed(noise + salt)
    got = dec.feed(GOOD + GOOD)
    assert p.Frame(p.MsgType.ACK, 4, bytes([4])) in got


SMALL = [g for g in golden_frames() if len(g[4]) < 64]


@pytest.mark.parametrize("name,ty,seq,payload,frame", SMALL)
def test_every_bit_flip_is_caught(name, ty, seq, payload, frame):
    for bit in range(len(frame) * 8):
        bad = bytearray(frame)
        bad[bit // 8] ^= 1 << (bit % 8)
        got = p.Decoder().feed(bytes(bad) + GOOD)
        frames = [ev for ev in got if isinstance(ev, p.Frame)]
        assert frames == [p.Frame(p.MsgType.ACK, 4, bytes([4]))], (name, bit, got)


MESSAGES = st.one_of(
    st.builds(p.Hello, st.integers(0, 0xFFFF)),
    st.builds(p.Ping, st.binary(max_size=1024)),
    st.builds(p.SetInput, st.integers(0, 255), st.integers(0, 2**32 - 1), st.binary(max_size=1019)),
    st.builds(p.Run),
    st.builds(p.GetOutput, st.integers(0, 255), st.integers(0, 2**32 - 1), st.integers(0, 0xFFFF)),
    st.builds(p.Output, st.integers(0, 255), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
              st.binary(max_size=1015)),
    st.builds(p.Cycles, st.integers(0, 2**64 - 1), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF),
              st.lists(st.integers(0, 2**32 - 1), max_size=253).map(tuple)),
    st.builds(p.Error, st.integers(0, 255), st.integers(0, 255), st.text(max_size=16)),
    st.builds(p.HelloReply, st.integers(0, 0xFFFF), st.integers(0, 255), st.integers(0, 0xFFFF),
              st.integers(0, 2**64 - 1), st.text(max_size=40), st.text(max_size=40)),
)


@settings(max_examples=300, deadline=None)
@given(MESSAGES, st.integers(0, 254))
def test_messages_round_trip(msg, seq):
    (frame,) = p.Decoder().feed(p.encode(msg, seq))
    assert frame.seq == seq and p.decode(frame) == msg


@pytest.mark.parametrize(
    "ty,payload",
    [(0x42, b""), (p.MsgType.HELLO, b"\x01"), (p.MsgType.RUN, b"\x00"),
     (p.MsgType.CYCLES, b"\x00" * 13), (p.MsgType.ERROR, b"\x01"),
     (p.MsgType.HELLO_REPLY, b"\x00" * 14), (p.MsgType.HELLO_REPLY, b"\x00" * 16)],
)
def test_malformed_payloads_raise(ty, payload):
    with pytest.raises(p.ProtocolError):
        p.decode(p.Frame(ty, 0, payload))


def test_oversized_payload_refused():
    with pytest.raises(p.ProtocolError):
        p.encode_frame(0x02, 0, bytes(p.MAX_PAYLOAD + 1))
