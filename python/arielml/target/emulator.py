"""What every emulator session shares (QEMU, rp2040js, Spike): the child process, its log, the
pyserial connection to its UART, and the clean-up.

Each emulator is started in its own session (so a Ctrl-C in the terminal reaches arielml,
which unwinds, rather than the emulator directly) and is killed with its whole process
group on timeout, on error and when the session closes. A SIGKILL'd arielml runs no
clean-up at all, so on Linux the child also gets the parent-death signal (SIGKILL, through
util-linux's `setpriv --pdeathsig`, which sets it and execs the emulator in place: same
pid, nothing between us): no emulator outlives the arielml process that started it. The
signal follows the thread that spawned the child, so sessions are opened and closed on one
thread (as the commands do).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import serial

_SETPRIV = shutil.which("setpriv") if sys.platform.startswith("linux") else None


def _with_parent_death_kill(cmd: list[str]) -> list[str]:
    return [_SETPRIV, "--pdeathsig", "KILL", "--", *cmd] if _SETPRIV else cmd


class EmulatorSession:
    """Base of QemuSession, Rp2040jsSession and SpikeSession: use as a context manager. Subclasses
    implement `start()` with `_spawn` and `_connect`; `port` is the pyserial object on the
    emulated UART once started."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.port: serial.SerialBase | None = None
        self._log = tempfile.TemporaryFile()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        raise NotImplementedError

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def _spawn(self, cmd: list[str], *, stdout, stderr, stdin=subprocess.DEVNULL) -> None:
        self.proc = subprocess.Popen(_with_parent_death_kill(cmd), stdin=stdin,
                                     stdout=stdout, stderr=stderr, start_new_session=True)

    def _connect(self, url: str, until: float) -> serial.SerialBase | None:
        """pyserial on `url`, retried until `until` (monotonic) while the emulator runs;
        None if it exited or the time ran out."""
        while time.monotonic() < until:
            if self.proc.poll() is not None:
                return None
            try:
                return serial.serial_for_url(url, timeout=0.05)
            except serial.SerialException:
                time.sleep(0.02)
        return None

    def log_tail(self) -> str:
        """The emulator's last line of its own output (why it stopped), or 'no output'."""
        if self._log.closed:
            return "no output"
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace").strip()
        return text.splitlines()[-1] if text else "no output"

    def _kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()

    def close(self) -> None:
        if self.port is not None:
            self.port.close()
            self.port = None
        self._kill()
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        self._log.close()
