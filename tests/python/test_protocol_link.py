"""Link against a simulated device: chunking, errors, timeouts, garbled frames, sockets."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from arielml.errors import EmulatorError
from arielml.target import protocol as p


class FakeDevice:
    """The device side in Python: one input and one output tensor, output = input reversed.

    Fault knobs: `garble_replies` flips a bit in that many reply frames, `garble_requests`
    in that many incoming bytes streams, `mute` drops every reply.
    """

    def __init__(self, max_payload=p.MAX_PAYLOAD, tasks=5, version=p.PROTOCOL_VERSION):
        self.decoder = p.Decoder(max_payload + p.OVERHEAD)
        self.max_payload, self.version = max_payload, version
        self.input = bytearray(27 * 1024)
        self.output = b""
        self.cycles = [1000 + i for i in range(tasks)]
        self.garble_replies = self.garble_requests = 0
        self.mute = False
        self.largest_request = 0

    def handle(self, data: bytes) -> bytes:
        if self.garble_requests:
            self.garble_requests -= 1
            data = data[:6] + bytes([data[6] ^ 0x40]) + data[7:]  # the type byte
        out = b""
        for ev in self.decoder.feed(data):
            if isinstance(ev, p.Fault):
                reply = p.encode(p.Error(ev.code, 0, ev.code.name.lower()), p.SEQ_NONE)
            else:
                self.largest_request = max(self.largest_request, len(ev.payload))
                reply = p.encode(self.answer(ev), ev.seq)
            if self.garble_replies:
                self.garble_replies -= 1
                reply = reply[:-1] + bytes([reply[-1] ^ 1])
            out += b"" if self.mute else reply
        return out

    def answer(self, frame: p.Frame):
        msg = p.decode(frame)
        match msg:
            case p.Hello():
                return p.HelloReply(self.version, 2, self.max_payload, 0xABCD, "fake", "test 1")
            case p.Ping(data=d):
                return p.Pong(d)
            case p.SetInput(tensor=0, offset=off, data=d) if off + len(d) <= len(self.input):
                self.input[off : off + len(d)] = d
                return p.Ack(frame.type)
            case p.SetInput():
                return p.Error(p.ErrorCode.OUT_OF_RANGE, frame.type, "input out of range")
            case p.Run():
                self.output = bytes(reversed(self.input))
                return p.Ack(frame.type)
            case p.GetOutput(tensor=0, offset=off, max_len=n):
                chunk = self.output[off : off + min(n, self.max_payload - 9)]
                return p.Output(0, len(self.output), off, chunk)
            case p.GetCycles(first=first):
                room = (self.max_payload - 12) // 4
                chunk = tuple(self.cycles[first : first + room])
                return p.Cycles(sum(self.cycles), len(self.cycles), first, chunk)
        return p.Error(p.ErrorCode.BAD_TENSOR, frame.type, "no such tensor")


class FakePort:
    """pyserial-shaped: write() runs the device, read() returns what it answered."""

    def __init__(self, device: FakeDevice):
        self.device, self.rx, self.timeout = device, bytearray(), 1.0

    @property
    def in_waiting(self) -> int:
        return len(self.rx)

    def write(self, data: bytes) -> int:
        self.rx += self.device.handle(bytes(data))
        return len(data)

    def read(self, n: int) -> bytes:
        if not self.rx:
            time.sleep(self.timeout)
            return b""
        out, self.rx[:n] = bytes(self.rx[:n]), b""
        return out

    def close(self) -> None:
        pass


def link(device=None, **kw) -> tuple[p.Link, FakeDevice]:
    device = device or FakeDevice()
    return p.Link(FakePort(device), **kw), device


def test_hello_ping_and_full_inference_cycle():
    lk, dev = link(FakeDevice(max_payload=256, tasks=300))
    info = lk.hello()
    assert (info.cores, info.board, info.firmware, info.model_id) == (2, "fake", "test 1", 0xABCD)
    assert lk.max_payload == 256
    assert lk.ping(b"hi") >= 0
    data = bytes((i * 31) & 0xFF for i in range(27 * 1024))
    lk.set_input(0, data)
    assert dev.largest_request <= 256 and bytes(dev.input) == data
    lk.run()
    assert lk.output(0) == data[::-1]
    total, per_task = lk.cycles()
    assert per_task == dev.cycles and total == sum(dev.cycles)


def test_device_error_is_one_line():
    lk, _ = link()
    with pytest.raises(EmulatorError, match="OUT_OF_RANGE on SET_INPUT: input out of range") as e:
        lk.set_input(0, bytes(28 * 1024))
    assert "\n" not in str(e.value) and e.value.exit_code == 4


def test_silence_times_out_cleanly():
    lk, dev = link(timeout=0.2, poll=0.01)
    dev.mute = True
    t0 = time.monotonic()
    with pytest.raises(EmulatorError, match=r"no reply to RUN from the device within 0.2 s"):
        lk.run()
    assert time.monotonic() - t0 < 1.0


def test_garbled_reply_and_request_are_retried():
    lk, dev = link()
    dev.garble_replies = 1
    assert lk.hello().board == "fake"
    dev.garble_requests = 1  # the device answers ERROR BAD_CRC with SEQ_NONE
    assert lk.ping(b"x") >= 0


def test_hopeless_link_gives_up():
    lk, dev = link(retries=2)
    dev.garble_replies = 10
    with pytest.raises(EmulatorError, match="garbled 3 times"):
        lk.hello()


def test_boot_chatter_and_stale_replies_are_skipped():
    lk, _ = link()
    port = lk.port
    port.rx += b"booting...\r\n" + p.encode(p.Ack(4), 200)
    port.rx += p.encode(p.Error(p.ErrorCode.GARBAGE, 0, "garbage"), p.SEQ_NONE)
    assert lk.hello().version == p.PROTOCOL_VERSION
    assert lk._seq == 1  # nothing above was worth a retry


def test_version_mismatch():
    lk, _ = link(FakeDevice(version=9))
    with pytest.raises(EmulatorError, match="protocol 9"):
        lk.hello()


def test_unexpected_reply_type():
    lk, _ = link()
    with pytest.raises(EmulatorError, match="answered PING with Pong, not HelloReply"):
        lk.request(p.Ping(), p.HelloReply)


def serve_once(device: FakeDevice) -> tuple[int, threading.Thread]:
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(5)

    def run():
        conn, _ = srv.accept()
        with conn, srv:
            while data := conn.recv(4096):
                conn.sendall(device.handle(data))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return srv.getsockname()[1], t


def test_over_pyserial_socket_url():
    port, thread = serve_once(FakeDevice())
    with p.Link.open(f"socket://127.0.0.1:{port}", timeout=2.0) as lk:
        assert lk.hello().board == "fake"
        lk.set_input(0, b"abc")
        lk.run()
        assert lk.output(0)[:3] == b"\x00\x00\x00"
    thread.join(5)


def test_open_failure_is_emulator_error():
    with pytest.raises(EmulatorError, match="cannot open serial link"):
        p.Link.open("socket://127.0.0.1:1")


def test_port_failing_mid_request_is_link_lost():
    """An emulator that exits (connection reset) or an unplugged board: one EmulatorError."""
    import serial

    class Dying:
        timeout = 0.01

        def write(self, data):
            return len(data)

        def read(self, n):
            raise serial.SerialException("read failed: [Errno 104] Connection reset by peer")

    link = p.Link(Dying(), timeout=1.0)
    with pytest.raises(p.LinkLost, match=r"^serial link lost during PING: read failed: \[Errno 104\]"):
        link.ping(b"x")
    assert issubclass(p.LinkLost, EmulatorError)
