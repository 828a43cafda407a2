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

frames.py holds the format and the decoder, messages.py the message types, link.py the
request/response client, reports.py the firmware's panic/fault/stuck lines; their names
are all here.
"""

from arielml.target.protocol.frames import (ERROR_TEXT, HEADER, LINK_FAULTS, MAX_PAYLOAD, OVERHEAD,
                                             PROTOCOL_VERSION, SEQ_NONE, SYNC, Decoder, ErrorCode, Fault,
                                             Frame, LinkLost, NoReply, ProtocolError, encode_frame)
from arielml.target.protocol.link import Link
from arielml.target.protocol.reports import FirmwareFault, find_report, parse_report
from arielml.target.protocol.messages import (MESSAGES, Ack, Cycles, Error, GetCycles, GetOutput, Hello,
                                               HelloReply, Message, MsgType, Output, Ping, Pong, Run,
                                               SetInput, decode, encode)

__all__ = ["ERROR_TEXT", "HEADER", "LINK_FAULTS", "MAX_PAYLOAD", "OVERHEAD", "PROTOCOL_VERSION", "SEQ_NONE",
           "SYNC", "Decoder", "ErrorCode", "Fault", "Frame", "LinkLost", "NoReply", "ProtocolError",
           "encode_frame", "Link", "MESSAGES", "Ack", "Cycles", "Error", "GetCycles", "GetOutput", "Hello",
           "HelloReply", "Message", "MsgType", "Output", "Ping", "Pong", "Run", "SetInput", "decode", "encode", "FirmwareFault", "find_report", "parse_report"]
