"""Run RP2040 firmware in rp2040js (core 0 only) and talk to it through pyserial.

`node tools/rp2040js/run.mjs IMAGE` loads the image into rp2040js's flash, starts core 0
from the vector table at 0x1000_0100 as the boot ROM does after boot2 (the npm package has
no boot ROM), and serves UART0 on a TCP port of 127.0.0.1, printed on its first stdout
line. The core starts when we connect, so no output is lost; pyserial opens the port as
`socket://127.0.0.1:PORT`, as QemuSession does, so `Link` and `Device` work unchanged.

Process handling (own session, killed on every way out, parent-death signal) is
target/emulator.py's, shared with QEMU.
Images that call into the boot ROM (rp2040-hal's ROM-backed intrinsics, for instance)
stop the emulator with a message naming the call site; it ends up in the EmulatorError.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import shutil
import subprocess
import time
from pathlib import Path

import serial

from arielml.build import Build
from arielml.errors import EmulatorError, ToolMissing, UsageError
from arielml.target.device import Device
from arielml.target.emulator import EmulatorSession
from arielml.target.protocol import Link

REPO_ROOT = Path(__file__).resolve().parents[3]
RUNNER_DIR = REPO_ROOT / "tools" / "rp2040js"
RUNNER = RUNNER_DIR / "run.mjs"
START_SECONDS = 20.0  # node start-up and loading the image, before the port is printed
_LISTENING = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")


def require_runner() -> Path:
    """The node binary, once rp2040js is installed next to run.mjs; ToolMissing otherwise."""
    node = shutil.which("node")
    if node is None:
        raise ToolMissing("node is not installed (needed for rp2040js); run scripts/setup.sh")
    if not (RUNNER_DIR / "node_modules" / "rp2040js" / "package.json").is_file():
        raise ToolMissing(f"rp2040js is not installed in {RUNNER_DIR}; run "
                          f"`npm ci --prefix {RUNNER_DIR.relative_to(REPO_ROOT)}` or scripts/setup.sh")
    return Path(node)


class Rp2040jsSession(EmulatorSession):
    """One rp2040js run of `image` (ELF, UF2 or flash .bin). Use as a context manager.

    `port` is the pyserial object connected to UART0. The emulator is killed after
    `timeout` seconds (it also stops itself then) and whenever the session closes.
    With connect=False nothing connects: `url` (socket://127.0.0.1:PORT) is left for
    another client, e.g. `arielml bench --port URL` treating the emulator as a board on a
    serial port (the core starts when that client connects; the emulator exits when it
    disconnects).
    """

    def __init__(self, image: Path, *, timeout: float = 120.0, connect: bool = True,
                 usb: bool = False):
        super().__init__()
        self.image, self.timeout, self.connect = Path(image), timeout, connect
        self.usb = usb  # bridge the firmware's USB CDC-ACM port instead of UART0 (run.mjs --usb)
        self.url: str | None = None

    def command(self) -> list[str]:
        node = require_runner()
        return [str(node), str(RUNNER), str(self.image), "--port", "0",
                "--timeout", f"{self.timeout:g}", *(["--usb"] if self.usb else [])]

    def start(self) -> None:
        if not self.image.is_file():
            raise UsageError(f"firmware {self.image} does not exist")
        cmd = self.command()
        self._spawn(cmd, stdout=subprocess.PIPE, stderr=self._log)
        tcp_port = None
        try:
            tcp_port = self._read_port()
            self.url = f"socket://127.0.0.1:{tcp_port}"
            if self.connect:
                self.port = serial.serial_for_url(self.url, timeout=0.05)
        except serial.SerialException as e:
            self.close()
            raise EmulatorError(f"cannot connect to rp2040js on port {tcp_port}: {e}") from None
        except BaseException:
            self.close()
            raise

    def _read_port(self) -> int:
        """The TCP port from the runner's first stdout line (it binds port 0: no race)."""
        deadline = time.monotonic() + min(START_SECONDS, self.timeout)
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        seen = b""
        try:
            while time.monotonic() < deadline:
                if sel.select(timeout=0.05):
                    chunk = os.read(self.proc.stdout.fileno(), 4096)
                    if not chunk:  # stdout closed: the runner exited
                        break
                    seen += chunk
                    if (m := _LISTENING.search(seen)) is not None:
                        return int(m.group(1))
                elif self.proc.poll() is not None:
                    break
        finally:
            sel.close()
        self._kill()
        status = self.proc.returncode
        why = "exited" if status is not None and status >= 0 else "did not start in time"
        raise EmulatorError(f"rp2040js {why} running {self.image.name} "
                            f"(status {status}): {self.log_tail()}")

    def check_alive(self) -> None:
        """EmulatorError with the runner's own explanation if it has stopped."""
        if self.proc is not None and self.proc.poll() is not None:
            raise EmulatorError(f"rp2040js stopped (status {self.proc.returncode}) running "
                                f"{self.image.name}: {self.log_tail()}")


@contextlib.contextmanager
def rp2040js_device(build: Build, *, timeout: float = 300.0, link_timeout: float = 30.0,
                    usb: bool = False):
    """A Device for `build` running in rp2040js (over UART0, or its USB port with `usb`); the
    emulator is killed on exit, whatever happens. A link failure after the emulator stopped
    carries the emulator's reason."""
    with Rp2040jsSession(build.elf, timeout=timeout, usb=usb) as s:
        try:
            yield Device(Link(s.port, timeout=link_timeout), build)
        except (EmulatorError, serial.SerialException) as e:
            try:  # a closed link usually means the emulator is on its way out: hear why
                s.proc.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                pass
            if s.proc.poll() is None:
                if isinstance(e, EmulatorError):
                    raise
                raise EmulatorError(f"serial link to rp2040js failed: {e}") from None
            raise EmulatorError(f"{e}; rp2040js stopped (status {s.proc.returncode}): "
                                f"{s.log_tail()}") from None
