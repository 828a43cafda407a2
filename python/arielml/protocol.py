"""Host side of the framed serial protocol spoken with arielml firmware.

The reference for the format is the doc comment at the top of
firmware/runtime/src/protocol.rs; the golden vectors in tests/vectors/protocol/ are
checked by both implementations. In short:

    A5 5A | len u16 | ~len u16 | type u8 | seq u8 | payload[len] | crc32 u32

little-endian, CRC-32/ISO-HDLC (zlib.crc32) over everything after the sync bytes, payload
at most 1024 bytes. The host sends one request and waits for the reply with the same seq.

`Decoder` mirrors the firmware's decoder event for event (same resync and fault-reporting
rules), `encode`/`decode` turn messages into frames and back, and `Link` runs requests
over anything with read(n)/write(b)/timeout, e.g. pyserial's serial_for_url().
"""

from __future__ import annotations

import struct
import time
import zlib
from dataclasses import dataclass
from enum import IntEnum

from .errors import EmulatorError

SYNC = b"\xa5\x5a"
PROTOCOL_VERSION = 1
MAX_PAYLOAD = 1024
HEADER = 8
OVERHEAD = HEADER + 4
SEQ_NONE = 0xFF
ERROR_TEXT = 64


class ErrorCode(IntEnum):
    GARBAGE = 1
    BAD_LENGTH = 2
    TOO_LONG = 3
    BAD_CRC = 4
    UNKNOWN_TYPE = 16
    BAD_PAYLOAD = 17
    BAD_TENSOR = 18
    OUT_OF_RANGE = 19
    VERSION = 20
    RUN_FAILED = 21


LINK_FAULTS = (ErrorCode.BAD_LENGTH, ErrorCode.TOO_LONG, ErrorCode.BAD_CRC)


class ProtocolError(ValueError):
    """A payload that does not match its message layout."""


class LinkLost(EmulatorError):
    """The serial port failed under a request (emulator exited, board unplugged)."""


class NoReply(EmulatorError):
    """No valid reply to a request: silence past the timeout, or every try garbled.

    Raised by `Link` instead of a plain EmulatorError so that a caller waiting for a
    board to come up (runners/serial_port.py) can tell "nothing sensible answered yet"
    from "the device answered, with an error".
    """


def encode_frame(ty: int, seq: int, payload: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError(f"payload of {len(payload)} bytes > {MAX_PAYLOAD}")
    body = struct.pack("<HHBB", len(payload), ~len(payload) & 0xFFFF, ty, seq) + payload
    return SYNC + body + struct.pack("<I", zlib.crc32(body))


@dataclass(frozen=True)
class Frame:
    type: int
    seq: int
    payload: bytes


@dataclass(frozen=True)
class Fault:
    """A decoder fault; `count` is the number of skipped bytes for GARBAGE."""

    code: ErrorCode
    count: int = 0


class Decoder:
    """Incremental decoder, the same state machine as the firmware's `Decoder<N>`.

    `capacity` is the frame buffer size in bytes; frames with more than
    `capacity - OVERHEAD` payload bytes are TOO_LONG faults.
    """

    def __init__(self, capacity: int = MAX_PAYLOAD + OVERHEAD):
        self.capacity = capacity
        self.buf = bytearray()
        self.blamed = 0  # leading bytes already blamed on a reported fault
        self.garbage = 0

    def feed(self, data: bytes) -> list[Frame | Fault]:
        self.buf += data
        events = []
        while (ev := self._step()) is not None:
            if ev is not _AGAIN:
                events.append(ev)
        return events

    def _drop(self, n: int) -> None:
        del self.buf[:n]
        self.blamed = max(0, self.blamed - n)

    def _flush_garbage(self) -> Fault | None:
        if not self.garbage:
            return None
        count, self.garbage = min(self.garbage, 0xFFFF), 0
        return Fault(ErrorCode.GARBAGE, count)

    def _step(self):
        buf = self.buf
        if not buf:
            return None
        if buf[0] != SYNC[0] or (len(buf) > 1 and buf[1] != SYNC[1]):
            if self.blamed == 0:
                self.garbage += 1
            self._drop(1)
            return _AGAIN
        if len(buf) < HEADER:
            return None
        n, check, ty, seq = struct.unpack_from("<HHBB", buf, 2)
        total = n + OVERHEAD
        if check != ~n & 0xFFFF:
            return self._reject(ErrorCode.BAD_LENGTH, HEADER)
        if total > self.capacity:
            return self._reject(ErrorCode.TOO_LONG, HEADER)
        if len(buf) < total:
            return None
        (crc,) = struct.unpack_from("<I", buf, total - 4)
        if zlib.crc32(buf[2 : HEADER + n]) != crc:
            return self._reject(ErrorCode.BAD_CRC, total)
        if (g := self._flush_garbage()) is not None:
            return g
        frame = Frame(ty, seq, bytes(buf[HEADER : HEADER + n]))
        self._drop(total)
        return frame

    def _reject(self, code: ErrorCode, seen: int):
        # Blame the bytes this verdict rested on, not all that happen to be buffered, so
        # the events do not depend on how the stream was chunked.
        if (g := self._flush_garbage()) is not None:
            return g
        fresh = seen > self.blamed
        self.blamed = max(self.blamed, seen)
        self._drop(1)
        return Fault(code) if fresh else _AGAIN


_AGAIN = object()  # a step that consumed bytes without an event


# ------------------------------------------------------------------------- messages
# One class per message type: TYPE, a struct layout for the fixed part, and at most one
# variable-length tail (bytes, text or a u32 array).


class MsgType(IntEnum):
    HELLO = 0x01
    PING = 0x02
    SET_INPUT = 0x03
    RUN = 0x04
    GET_OUTPUT = 0x05
    GET_CYCLES = 0x06
    ACK = 0x80
    HELLO_REPLY = 0x81
    PONG = 0x82
    OUTPUT = 0x85
    CYCLES = 0x86
    ERROR = 0xFF


@dataclass(frozen=True)
class _Fixed:
    """Messages whose payload is `FMT` followed by an optional bytes tail `data`."""

    FMT = ""
    TAIL = False

    def payload(self) -> bytes:
        vals = [getattr(self, f) for f in self.__dataclass_fields__][: len(self.FMT.strip("<"))]
        return struct.pack(self.FMT or "<", *vals) + (self.data if self.TAIL else b"")

    @classmethod
    def parse(cls, payload: bytes):
        size = struct.calcsize(cls.FMT or "<")
        if len(payload) < size or (len(payload) > size and not cls.TAIL):
            raise ProtocolError(f"{cls.__name__} payload of {len(payload)} bytes")
        vals = struct.unpack_from(cls.FMT or "<", payload)
        return cls(*vals, *((bytes(payload[size:]),) if cls.TAIL else ()))


@dataclass(frozen=True)
class Hello(_Fixed):
    version: int = PROTOCOL_VERSION
    TYPE, FMT = MsgType.HELLO, "<H"


@dataclass(frozen=True)
class Ping(_Fixed):
    data: bytes = b""
    TYPE, TAIL = MsgType.PING, True


@dataclass(frozen=True)
class Pong(_Fixed):
    data: bytes = b""
    TYPE, TAIL = MsgType.PONG, True


@dataclass(frozen=True)
class SetInput(_Fixed):
    tensor: int
    offset: int
    data: bytes
    TYPE, FMT, TAIL = MsgType.SET_INPUT, "<BI", True


@dataclass(frozen=True)
class Run(_Fixed):
    TYPE = MsgType.RUN


@dataclass(frozen=True)
class GetOutput(_Fixed):
    tensor: int
    offset: int
    max_len: int
    TYPE, FMT = MsgType.GET_OUTPUT, "<BIH"


@dataclass(frozen=True)
class Output(_Fixed):
    tensor: int
    size: int
    offset: int
    data: bytes
    TYPE, FMT, TAIL = MsgType.OUTPUT, "<BII", True


@dataclass(frozen=True)
class GetCycles(_Fixed):
    first: int
    TYPE, FMT = MsgType.GET_CYCLES, "<H"


@dataclass(frozen=True)
class Ack(_Fixed):
    request: int
    TYPE, FMT = MsgType.ACK, "<B"


@dataclass(frozen=True)
class Cycles:
    total: int
    tasks: int
    first: int
    cycles: tuple[int, ...]
    TYPE = MsgType.CYCLES

    def payload(self) -> bytes:
        head = struct.pack("<QHH", self.total, self.tasks, self.first)
        return head + struct.pack(f"<{len(self.cycles)}I", *self.cycles)

    @classmethod
    def parse(cls, p: bytes) -> Cycles:
        if len(p) < 12 or len(p) % 4:
            raise ProtocolError(f"Cycles payload of {len(p)} bytes")
        total, tasks, first = struct.unpack_from("<QHH", p)
        return cls(total, tasks, first, struct.unpack_from(f"<{(len(p) - 12) // 4}I", p, 12))


@dataclass(frozen=True)
class Error:
    code: int
    request: int
    text: str
    TYPE = MsgType.ERROR

    def payload(self) -> bytes:
        return bytes((self.code, self.request)) + self.text.encode()[:ERROR_TEXT]

    @classmethod
    def parse(cls, p: bytes) -> Error:
        if len(p) < 2:
            raise ProtocolError(f"Error payload of {len(p)} bytes")
        return cls(p[0], p[1], p[2:].decode("utf-8", "replace"))

    def describe(self) -> str:
        """One line for EmulatorError, e.g. 'device error BAD_TENSOR on SET_INPUT: ...'."""
        codes, types = ErrorCode._value2member_map_, MsgType._value2member_map_
        name = codes[self.code].name if self.code in codes else f"code {self.code}"
        what = f" on {types[self.request].name}" if self.request in types else ""
        return f"device error {name}{what}: {self.text}"


@dataclass(frozen=True)
class HelloReply:
    version: int
    cores: int
    max_payload: int
    model_id: int
    board: str
    firmware: str
    TYPE = MsgType.HELLO_REPLY

    def payload(self) -> bytes:
        board, fw = self.board.encode()[:255], self.firmware.encode()[:255]
        head = struct.pack("<HBHQ", self.version, self.cores, self.max_payload, self.model_id)
        return head + bytes([len(board)]) + board + bytes([len(fw)]) + fw

    @classmethod
    def parse(cls, p: bytes) -> HelloReply:
        try:
            fixed = struct.unpack_from("<HBHQ", p)
            nb = p[13]
            board = p[14 : 14 + nb]
            nf = p[14 + nb]
            fw = p[15 + nb : 15 + nb + nf]
        except (struct.error, IndexError):
            raise ProtocolError(f"HelloReply payload of {len(p)} bytes") from None
        if len(board) != nb or len(fw) != nf or len(p) != 15 + nb + nf:
            raise ProtocolError(f"HelloReply payload of {len(p)} bytes")
        return cls(*fixed, board.decode("utf-8", "replace"), fw.decode("utf-8", "replace"))


MESSAGES = {
    cls.TYPE: cls
    for cls in (Hello, Ping, Pong, SetInput, Run, GetOutput, Output, GetCycles, Ack, Cycles,
                Error, HelloReply)
}
Message = (Hello | Ping | Pong | SetInput | Run | GetOutput | Output | GetCycles | Ack | Cycles
           | Error | HelloReply)


def encode(msg: Message, seq: int) -> bytes:
    """The whole frame carrying `msg`."""
    return encode_frame(msg.TYPE, seq, msg.payload())


def decode(frame: Frame) -> Message:
    """The message in a frame; ProtocolError for unknown types or malformed payloads."""
    cls = MESSAGES.get(frame.type)
    if cls is None:
        raise ProtocolError(f"unknown message type 0x{frame.type:02x}")
    return cls.parse(frame.payload)


# ------------------------------------------------------------------------- link

_RETRY = object()  # the request or its reply was garbled on the wire: send it again


class Link:
    """Request/response client over a byte port (pyserial `Serial` or anything with
    read(n), write(b) and a `timeout` attribute). Every failure is an EmulatorError.

    Replies are matched by seq, so stale replies and the device's boot chatter are
    skipped. A request whose frame or reply was garbled (CRC or length fault) is resent
    with a fresh seq up to `retries` times; silence past `timeout` seconds is an error.
    """

    def __init__(self, port, *, timeout: float = 2.0, retries: int = 2, poll: float = 0.05):
        self.port, self.timeout, self.retries = port, timeout, retries
        self.decoder = Decoder()
        self.max_payload = MAX_PAYLOAD
        self._seq = 0
        self._pending: list[Frame | Fault] = []
        if hasattr(port, "timeout"):
            port.timeout = poll  # short reads; the deadline is kept here, per request

    @classmethod
    def open(cls, url: str, *, baudrate: int = 115200, **kwargs) -> Link:
        import serial

        try:
            port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.05)
        except (serial.SerialException, ValueError) as e:
            raise EmulatorError(f"cannot open serial link {url}: {e}") from None
        return cls(port, **kwargs)

    def close(self) -> None:
        self.port.close()

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def request(self, msg: Message, expect: type, *, timeout: float | None = None):
        name = MsgType(msg.TYPE).name
        for _ in range(self.retries + 1):
            seq = self._seq
            self._seq = (seq + 1) % SEQ_NONE  # SEQ_NONE is the device's "no request"
            try:
                self.port.write(encode(msg, seq))
                reply = self._await(seq, name, self.timeout if timeout is None else timeout)
            except (OSError, _serial_error()) as e:  # the port closed under us: emulator or board gone
                raise LinkLost(f"serial link lost during {name}: {e}") from None
            if reply is _RETRY:
                continue
            if isinstance(reply, Error):
                raise EmulatorError(reply.describe())
            if not isinstance(reply, expect):
                got = type(reply).__name__
                raise EmulatorError(f"device answered {name} with {got}, not {expect.__name__}")
            return reply
        raise NoReply(f"{name} garbled {self.retries + 1} times: serial link too noisy")

    def _await(self, seq: int, name: str, timeout: float):
        deadline = time.monotonic() + timeout
        while True:
            while self._pending:
                verdict = self._judge(self._pending.pop(0), seq, name)
                if verdict is not None:
                    return verdict
            if time.monotonic() > deadline:
                raise NoReply(f"no reply to {name} from the device within {timeout:g} s")
            want = max(1, getattr(self.port, "in_waiting", 0) or 0)
            data = self.port.read(want)
            if data:
                self._pending.extend(self.decoder.feed(data))

    def _judge(self, ev: Frame | Fault, seq: int, name: str):
        """The reply to request `seq`, _RETRY, or None to keep waiting."""
        if isinstance(ev, Fault):
            return _RETRY if ev.code in LINK_FAULTS else None
        try:
            msg = decode(ev)
        except ProtocolError as e:
            raise EmulatorError(f"malformed reply to {name}: {e}") from None
        if ev.seq == seq:
            return msg
        if ev.seq == SEQ_NONE and isinstance(msg, Error) and msg.code in LINK_FAULTS:
            return _RETRY
        return None  # a stale reply or a GARBAGE report: not ours

    # -- helpers, one per use case

    def hello(self) -> HelloReply:
        reply = self.request(Hello(), HelloReply)
        if reply.version != PROTOCOL_VERSION:
            raise EmulatorError(
                f"firmware speaks protocol {reply.version}, this arielml speaks {PROTOCOL_VERSION}"
            )
        self.max_payload = max(16, min(MAX_PAYLOAD, reply.max_payload))
        return reply

    def ping(self, data: bytes = b"") -> float:
        """Round-trip time in seconds."""
        t0 = time.monotonic()
        if self.request(Ping(data), Pong).data != data:
            raise EmulatorError("PING echo differs from what was sent")
        return time.monotonic() - t0

    def set_input(self, tensor: int, data: bytes) -> None:
        room = self.max_payload - 5
        for off in range(0, len(data), room):
            self.request(SetInput(tensor, off, bytes(data[off : off + room])), Ack)

    def run(self, timeout: float | None = None) -> None:
        self.request(Run(), Ack, timeout=timeout)

    def output(self, tensor: int) -> bytes:
        out = bytearray()
        while True:
            r = self.request(GetOutput(tensor, len(out), self.max_payload - 9), Output)
            if r.tensor != tensor or r.offset != len(out):
                got, want = f"{r.tensor} at {r.offset}", f"{tensor} at {len(out)}"
                raise EmulatorError(f"OUTPUT for tensor {got}, asked for {want}")
            out += r.data
            if len(out) >= r.size:
                return bytes(out[: r.size])
            if not r.data:
                raise EmulatorError(f"no bytes of tensor {tensor} at {len(out)}/{r.size}")

    def cycles(self) -> tuple[int, list[int]]:
        """Total cycles of the last run and cycles per task."""
        per_task: list[int] = []
        while True:
            r = self.request(GetCycles(len(per_task)), Cycles)
            per_task += r.cycles
            if len(per_task) >= r.tasks:
                return r.total, per_task[: r.tasks]
            if not r.cycles:
                raise EmulatorError(f"no cycle counts at task {len(per_task)}/{r.tasks}")


def _serial_error() -> type[Exception]:
    """pyserial's exception class (imported lazily, like Link.open does)."""
    import serial

    return serial.SerialException
