"""Messages of the host protocol: one class per type, `encode`/`decode` to and from frames."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from arielml.target.protocol.frames import (ERROR_TEXT, PROTOCOL_VERSION, ErrorCode, Frame, ProtocolError,
                                             encode_frame)


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
