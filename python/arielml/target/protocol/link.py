"""`Link`: requests and replies over a byte port, resent when the wire garbles them."""

from __future__ import annotations

import time

from arielml.errors import EmulatorError
from arielml.target.protocol.frames import (LINK_FAULTS, MAX_PAYLOAD, PROTOCOL_VERSION, SEQ_NONE, Decoder,
                                             Fault, Frame, LinkLost, NoReply, ProtocolError)
from arielml.target.protocol.messages import (Ack, Cycles, Error, GetCycles, GetOutput, Hello, HelloReply,
                                               Message, MsgType, Output, Ping, Pong, Run, SetInput,
                                               decode, encode)
from arielml.target.protocol.reports import find_report

_RETRY = object()  # the request or its reply was garbled on the wire: send it again


class Link:
    """Request/response client over a byte port (pyserial `Serial` or anything with
    read(n), write(b) and a `timeout` attribute). Every failure is an EmulatorError.

    Replies are matched by seq, so stale replies and the device's boot chatter are
    skipped. A request whose frame or reply was garbled (CRC or length fault) is resent
    with a fresh seq up to `retries` times; silence past `timeout` seconds is an error.
    A panic, fault or stuck-core line the firmware prints between frames ends the request
    at once with a FirmwareFault (protocol/reports.py), also when the link then drops.
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
                self._raise_report()
                raise LinkLost(f"serial link lost during {name}: {e}") from None
            except NoReply:
                self._raise_report()
                raise
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
                if b"\n" in data:
                    self._raise_report()

    def _raise_report(self) -> None:
        """Raise the FirmwareFault of a report line the device printed, if it printed one."""
        fault = find_report(self.decoder.text)
        if fault is not None:
            self.decoder.text.clear()
            raise fault

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
