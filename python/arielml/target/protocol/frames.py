"""Frames of the host protocol: encoding, CRC, and the `Decoder` that mirrors the
firmware's event for event (package docstring: the format)."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from enum import IntEnum

from arielml.errors import EmulatorError

SYNC = b"\xa5\x5a"
PROTOCOL_VERSION = 1
MAX_PAYLOAD = 1024
HEADER = 8
OVERHEAD = HEADER + 4
SEQ_NONE = 0xFF
ERROR_TEXT = 64
TEXT_KEEP = 4096


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
        # The bytes skipped as garbage, i.e. the device's plain text between frames (its
        # panic, fault and stuck-core lines: protocol/reports.py), the last TEXT_KEEP of them.
        self.text = bytearray()

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
                self.text.append(buf[0])
                if len(self.text) > 2 * TEXT_KEEP:
                    del self.text[:-TEXT_KEEP]
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
