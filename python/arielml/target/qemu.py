"""Run firmware under QEMU and talk to it through pyserial.

QEMU's serial port is a TCP server on loopback (`wait=on`: the machine does not start
until we connect, so no output is lost); pyserial opens it as `socket://127.0.0.1:PORT`,
exactly as it opens a board's /dev/ttyACM0, so everything above this module speaks to
emulated and real boards the same way.

Process handling (own session, killed on every way out, parent-death signal) is
target/emulator.py's, shared with rp2040js.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import serial

from arielml.boards import Board
from arielml.build.toolchain import require_qemu
from arielml.errors import EmulatorError, UsageError
from arielml.target.emulator import EmulatorSession

CONNECT_SECONDS = 10.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class QemuResult:
    exit_code: int
    output: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.output.decode("utf-8", errors="replace")


class QemuSession(EmulatorSession):
    """One QEMU run of `elf` on `board`. Use as a context manager.

    `port` is the pyserial object connected to the board's UART; `wait()` returns the
    exit status, or raises EmulatorError after `timeout` seconds (QEMU is killed).
    """

    def __init__(self, board: Board, elf: Path, *, timeout: float = 60.0,
                 extra_args: tuple[str, ...] = (), icount: bool = False):
        if board.qemu is None:
            raise UsageError(f"board {board.name} is not emulated: no [qemu] section in {board.path}")
        super().__init__()
        self.board, self.elf, self.timeout = board, Path(elf), timeout
        self.extra_args, self.icount = tuple(extra_args), icount
        self._deadline = 0.0

    def command(self, tcp_port: int) -> list[str]:
        q = self.board.qemu
        cmd = [str(require_qemu(q.binary)), "-M", q.machine, "-display", "none", "-monitor", "none",
               "-serial", f"tcp:127.0.0.1:{tcp_port},server=on,wait=on", *q.args]
        if self.icount:
            cmd += ["-icount", "shift=0"]
        return cmd + ["-kernel", str(self.elf), *self.extra_args]

    def start(self) -> None:
        if not self.elf.is_file():
            raise UsageError(f"firmware {self.elf} does not exist")
        self._deadline = time.monotonic() + self.timeout
        for _attempt in range(3):  # the free port can be taken between probe and bind
            tcp_port = _free_port()
            self._spawn(self.command(tcp_port), stdout=self._log, stderr=subprocess.STDOUT)
            until = min(self._deadline, time.monotonic() + CONNECT_SECONDS)
            self.port = self._connect(f"socket://127.0.0.1:{tcp_port}", until)
            if self.port is not None:
                return
            self._kill()
        raise EmulatorError(f"QEMU {self.board.qemu.machine} did not start: {self.log_tail()}")

    def read_until_exit(self, on_data=None) -> QemuResult:
        """Read the serial output until QEMU exits; `on_data(bytes)` sees it as it comes."""
        start = time.monotonic()
        chunks: list[bytes] = []
        while True:
            data = self._read_some()
            if data:
                chunks.append(data)
                if on_data:
                    on_data(data)
            elif self.proc.poll() is not None:
                break
            if time.monotonic() > self._deadline:
                self._timeout("".join(c.decode("utf-8", "replace") for c in chunks))
        code = self.proc.wait()
        return QemuResult(code, b"".join(chunks), time.monotonic() - start)

    def _read_some(self) -> bytes:
        # pyserial's socket:// read(n) discards what it already received in that call
        # when the peer closes mid-call (QEMU exiting), so take only what is pending:
        # one byte with the timeout, then whatever `in_waiting` says is there.
        got = bytearray()
        try:
            got += self.port.read(1)
            while got and self.port.in_waiting:
                got += self.port.read(self.port.in_waiting)
        except serial.SerialException:
            # QEMU closed the socket (it exited): nothing more will come.
            time.sleep(0.01)
        return bytes(got)

    def _timeout(self, output: str) -> None:
        self._kill()
        last = output.strip().splitlines()[-1:] or ["(no serial output)"]
        raise EmulatorError(
            f"QEMU {self.board.qemu.machine} running {self.elf.name} did not finish within "
            f"{self.timeout:g} s; killed it (last serial line: {last[0]!r})")


def run_to_exit(board: Board, elf: Path, *, timeout: float = 60.0,
                extra_args: tuple[str, ...] = (), on_data=None) -> QemuResult:
    """Run `elf` on `board` under QEMU until it exits; return status and serial output."""
    with QemuSession(board, elf, timeout=timeout, extra_args=extra_args) as s:
        return s.read_until_exit(on_data)
