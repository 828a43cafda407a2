"""The device keeps serving through a damaged serial link (firmware under QEMU).

A frame with a bad CRC, a wrong length, or garbage before a frame each get an ERROR
frame back, and the next good request still succeeds, end to end with an inference.
"""

from __future__ import annotations

import time

import pytest

from _models import MODELS_DIR
from arielml.boards import get_board
from arielml.build import build_model
from arielml.oracle.check import check_tflite
from arielml.oracle.tensors_io import random_inputs
from arielml.target.device import Device
from arielml.target.protocol import (
    SEQ_NONE, Decoder, Error, ErrorCode, Fault, Frame, MsgType, Pong, decode, encode_frame,
)
from arielml.target.protocol import Link
from arielml.target.qemu import QemuSession

pytestmark = pytest.mark.qemu
AD01 = MODELS_DIR / "ad01_int8.tflite"


def _until_pong(port, decoder: Decoder, seq: int, timeout: float = 10.0) -> list:
    """Every reply up to and including the PONG answering request `seq`."""
    got: list = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ev in decoder.feed(port.read(max(1, port.in_waiting or 0))):
            assert isinstance(ev, Frame), f"the device sent a damaged frame: {ev}"
            got.append((ev.seq, decode(ev)))
            if ev.seq == seq and isinstance(got[-1][1], Pong):
                return got
    raise AssertionError(f"no PONG {seq} within {timeout} s; got {got}")


@pytest.fixture(scope="module")
def device_session(tmp_path_factory):
    board = get_board("qemu-an521")
    build = build_model(AD01, board, cores=2, out=tmp_path_factory.mktemp("ad01"))
    with QemuSession(board, build.elf, timeout=300) as session:
        yield build, session


def _ping(seq: int, data: bytes = b"hi") -> bytes:
    return encode_frame(MsgType.PING, seq, data)


@pytest.mark.parametrize("damage,code,seq", [
    (lambda f: f[:-1] + bytes([f[-1] ^ 0x01]), ErrorCode.BAD_CRC, 10),          # CRC byte flipped
    (lambda f: f[:2] + bytes([f[2] ^ 0x04]) + f[3:], ErrorCode.BAD_LENGTH, 20),  # length != ~length
    (lambda f: b"\x00garbage\xff" + f, ErrorCode.GARBAGE, 30),                  # junk before a frame
])
def test_damaged_frame_gets_error_and_link_recovers(device_session, damage, code, seq):
    build, session = device_session
    port, decoder = session.port, Decoder()
    port.write(damage(_ping(seq)))
    port.write(_ping(seq + 1, b"after"))
    replies = _until_pong(port, decoder, seq + 1)
    errors = [m.code for s_, m in replies if isinstance(m, Error) and s_ == SEQ_NONE]
    assert code in errors, replies
    assert replies[-1] == (seq + 1, Pong(b"after"))
    pongs = [s_ for s_, m in replies if isinstance(m, Pong)]
    # A damaged frame is never answered as if it were good; junk before a good one is skipped.
    assert pongs == ([seq, seq + 1] if code == ErrorCode.GARBAGE else [seq + 1]), replies


def test_inference_still_correct_after_damage(device_session):
    build, session = device_session
    port = session.port
    port.write(b"\xa5\x5a\xff\xff\x00\x00garbage")  # a header that lies about its length
    dev = Device(Link(port, timeout=10.0), build)
    g = build.compiled.graph
    x = random_inputs(g, 5)
    report = check_tflite(g, AD01, x, dev.infer(x).outputs)
    assert report.ok, report.summary()


def test_frame_cut_off_mid_way_then_a_burst_of_garbage(device_session):
    """The host side restarts mid-frame (half a frame sent, then nothing of it) and a burst
    of line noise follows: the device resynchronises and the next inference is exact."""
    import random

    build, session = device_session
    port = session.port
    frame = encode_frame(MsgType.PING, 40, b"x" * 200)
    port.write(frame[:len(frame) // 2])
    rng = random.Random(3)
    port.write(bytes(rng.randrange(256) for _ in range(4096)))
    dev = Device(Link(port, timeout=10.0), build)
    g = build.compiled.graph
    for seed in (6, 7):
        x = random_inputs(g, seed)
        report = check_tflite(g, AD01, x, dev.infer(x).outputs)
        assert report.ok, report.summary()
