"""A board on a serial port: open the port, wait for the firmware, hand back a Device.

`port_device(build, port, baud)` is what `run`, `bench` and `profile` use with `--port`.
`port` is anything pyserial opens: a device path (/dev/ttyACM0, /dev/ttyUSB0, COM3) or a
URL (socket://host:port, rfc2217://host:port). The board must already run `build`
(`arielml flash`); nothing here flashes or resets it.

Opening. DTR and RTS are left asserted, which is what Linux and Windows do when a port
opens, so pyserial changes neither line afterwards. That matters on boards whose
DTR/RTS lines drive reset: ESP32 dev boards' auto-reset circuit (and the ESP32-C3's
USB-Serial-JTAG) reset the chip when RTS is asserted while DTR is not, and enter the ROM
bootloader when DTR is asserted while RTS is not; both asserted (or both released) does
neither. Setting them low before opening, as some monitors do, releases DTR first and
so pulses reset. USB-CDC firmware (a Pico with TinyUSB) treats DTR as "host connected",
which asserted DTR gives it. 1200 baud is refused: on USB-CDC it is the "touch" that
reboots RP2040/RP2350 and Arduino boards into their bootloader. A local POSIX device is
locked (flock) so that two arielml processes cannot interleave frames on one board.

Waiting for the board. A device path that does not exist yet (or is not yet accessible:
udev sets its group a moment after it appears) is tried again for up to `connect_timeout`
seconds, since a board with native USB re-enumerates after `arielml flash` resets it.
Then HELLO is sent every HELLO_TRY_SECONDS until the board answers or `connect_timeout`
(CONNECT_SECONDS by default) runs out again. Between tries a run of zero bytes as long as
the largest frame is sent: whatever partial frame the board's decoder was holding (a
host killed mid-request, noise while it booted) is completed, fails its CRC, and the
decoder resynchronises, so the next HELLO meets an idle decoder. Bytes that arrive
before a valid frame (boot messages, noise) are skipped by `Link`'s decoder. A board
that never answers gives one EmulatorError line naming the likely causes, never a hang;
every later request has `reply_timeout` seconds (RUN: the caller's timeout).

Errors. A port that does not exist, is not ours to open, or is busy: UsageError (exit
2). A board that does not answer, runs other firmware, or whose port fails mid-session
(unplugged, reset): EmulatorError (exit 4). Both are one line.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import serial

from arielml.boards import Board
from arielml.errors import EmulatorError, UsageError
from arielml.target.device import Device, check_tasks
from arielml.target.protocol import MAX_PAYLOAD, OVERHEAD, HelloReply, Link, LinkLost, NoReply

CONNECT_SECONDS = 5.0  # until the board's first HELLO reply
HELLO_TRY_SECONDS = 0.5  # one HELLO attempt
REPLY_SECONDS = 5.0  # any later request but RUN
WRITE_SECONDS = 5.0  # a write that cannot drain (flow control, a device not reading)
RUN_SECONDS = 120.0  # one inference, by default
DEFAULT_BAUD = 115_200  # for boards whose file sets no `serial_baud` (emulated ones)
TOUCH_RESET_BAUD = 1200
FLUSH = bytes(MAX_PAYLOAD + OVERHEAD)  # completes any partial frame in the board's decoder

PORT_HELP = ("Serial port of a real board already running the build (after `arielml flash`): a "
             "device (/dev/ttyACM0, /dev/ttyUSB0, COM3) or a pyserial URL (socket://HOST:PORT, "
             "rfc2217://HOST:PORT).")
BAUD_HELP = "Baud rate with --port (default: the board file's serial_baud, 115200 on RP2040/RP2350)."
BUILD_HELP = ("With --port: the build the board runs (build directory, manifest.json, .elf or .uf2); "
              "default: MODEL built for the board, or without MODEL the newest build in the cache.")
CONNECT_HELP = ("With --port: seconds to wait for the port to appear (native USB boards re-enumerate "
                "after a reset), then as long for the board to answer HELLO.")


def default_baud(board: Board) -> int:
    return board.firmware.serial_baud or DEFAULT_BAUD


# ------------------------------------------------------------------------- opening


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text or type(e).__name__


def _open_failure(url: str, e: serial.SerialException, waited: str = "") -> str:
    code, text = getattr(e, "errno", None), str(e)
    if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO) or "FileNotFoundError" in text:
        return (f"serial port {url} does not exist{waited}: is the board plugged in? (Linux: ls "
                f"/dev/ttyACM* /dev/ttyUSB*; a Pico's UART0 needs a USB-serial adapter or a Debug Probe)")
    if code in (errno.EACCES, errno.EPERM):
        return (f"permission denied on serial port {url}{waited}: join the group that owns it "
                f"(`ls -l {url}`; on Debian `sudo usermod -aG dialout $USER`, then log in again)")
    if code in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK) or "PermissionError" in text:
        # Windows says "Access is denied" for a port another program holds.
        return f"serial port {url} is busy: another program has it open (a serial monitor?); close it"
    return f"cannot open serial port {url}: {_one_line(e)}"


def _missing_or_denied(e: serial.SerialException) -> bool:
    return getattr(e, "errno", None) in (errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.EACCES, errno.EPERM)


def open_port(url: str, baud: int, *, wait: float = 0.0) -> serial.SerialBase:
    """The port, open, with DTR and RTS asserted (see the module docstring); UsageError if not.

    A device path that is missing or not yet accessible is tried again for up to `wait`
    seconds: a board with native USB re-enumerates after `arielml flash` resets it, and
    udev gives the new node its group a moment after it appears."""
    if baud == TOUCH_RESET_BAUD:
        raise UsageError(f"--baud {TOUCH_RESET_BAUD}: opening a USB serial port at 1200 baud reboots "
                         f"RP2040/RP2350 (and Arduino) boards into their bootloader; use the firmware's rate")
    deadline = time.monotonic() + wait
    while True:
        try:
            port = serial.serial_for_url(url, baudrate=baud, timeout=0.05, write_timeout=WRITE_SECONDS,
                                         do_not_open=True)
            port.dtr = True
            port.rts = True
            if "://" not in url and os.name == "posix":
                port.exclusive = True
            port.open()
            return port
        except ValueError as e:  # unknown URL scheme, bad setting
            raise UsageError(f"--port {url}: {_one_line(e)}") from None
        except serial.SerialException as e:
            if _missing_or_denied(e) and time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            waited = f" (waited {wait:g} s)" if wait > 0 and _missing_or_denied(e) else ""
            raise UsageError(_open_failure(url, e, waited)) from None


class _Counted:
    """The port, counting the bytes read from it: silence and noise have different causes."""

    def __init__(self, port: serial.SerialBase):
        self.port, self.received = port, 0

    @property
    def timeout(self):
        return self.port.timeout

    @timeout.setter
    def timeout(self, value) -> None:
        self.port.timeout = value

    @property
    def in_waiting(self) -> int:
        return self.port.in_waiting

    def read(self, n: int) -> bytes:
        data = self.port.read(n)
        self.received += len(data)
        return data

    def write(self, data: bytes):
        return self.port.write(data)

    def close(self) -> None:
        self.port.close()


def say_hello(link: Link, where: str, *, connect_timeout: float = CONNECT_SECONDS) -> HelloReply:
    """The board's HELLO reply, asking again until `connect_timeout`; EmulatorError after."""
    deadline = time.monotonic() + connect_timeout
    saved, tries = link.timeout, 0
    try:
        while (left := deadline - time.monotonic()) > 0:
            link.timeout = min(HELLO_TRY_SECONDS, left)
            tries += 1
            try:
                return link.hello()
            except NoReply:
                link.port.write(FLUSH)
    finally:
        link.timeout = saved
    got = getattr(link.port, "received", 0)
    heard = ("nothing came back" if got == 0 else
             f"{got:,} bytes came back but no HELLO reply: wrong baud rate or other firmware?")
    raise EmulatorError(
        f"no answer to HELLO from {where} within {connect_timeout:g} s ({tries} tries, {heard}); "
        f"check that arielml firmware is flashed and running (`arielml flash`), that this is the "
        f"board's port, the baud rate (--baud) and the TX/RX wiring")


@contextlib.contextmanager
def port_device(build, port: str, baud: int, *, connect_timeout: float = CONNECT_SECONDS,
                reply_timeout: float = REPLY_SECONDS, log=None):
    """A Device for `build` (a Build or FlashedBuild) on the board at `port`.

    The board must answer HELLO with the build's model id and core count and report the
    build's number of tasks, else EmulatorError telling to flash the build. The port is
    closed on exit, whatever happens; a port failing mid-session is an EmulatorError.
    """
    log = log or (lambda m: None)
    where = f"{port} at {baud} baud"
    ser = open_port(port, baud, wait=connect_timeout)
    try:
        counted = _Counted(ser)
        link = Link(counted, timeout=reply_timeout)
        try:
            hello = say_hello(link, where, connect_timeout=connect_timeout)
            if hello.board != build.manifest["board"]:
                log(f"warning: the device on {port} says it is a '{hello.board}' board, "
                    f"the build is for '{build.manifest['board']}'")
            dev = Device(link, build, hello=hello)
            # Before any input goes over: the firmware's task table must be the build's.
            check_tasks(len(link.cycles()[1]), build)
            yield dev
        except (serial.SerialException, OSError, LinkLost) as e:
            raise EmulatorError(f"serial port {port} failed: {_one_line(e)} "
                                f"(board unplugged or reset?)") from None
    finally:
        ser.close()


# ------------------------------------------------------------------------- which build


@dataclass(frozen=True)
class FlashedBuild:
    """A build known by its manifest.json (what `Device` needs), without recompiling it."""

    out: Path
    manifest: dict

    @property
    def elf(self) -> Path:
        return self.out / self.manifest.get("artifacts", {}).get("elf", "firmware.elf")


_MANIFEST_KEYS = ("board", "cores", "model", "inputs", "outputs", "tasks")


def read_build(path: Path) -> FlashedBuild:
    """A build directory, its manifest.json, or a firmware file next to its manifest."""
    p = Path(path)
    if p.is_dir():
        m = p / "manifest.json"
    elif p.suffix == ".json":
        m = p
    elif p.suffix in (".elf", ".uf2", ".bin"):
        m = p.parent / "manifest.json"
    else:
        raise UsageError(f"--build {path}: give a build directory, its manifest.json, or its .elf/.uf2")
    if not m.is_file():
        raise UsageError(f"--build {path}: no {m.name} there (an `arielml build` output directory has one)")
    try:
        manifest = json.loads(m.read_text())
    except (OSError, ValueError) as e:
        raise UsageError(f"{m}: not a readable build manifest ({_one_line(e)})") from None
    missing = [k for k in _MANIFEST_KEYS if not isinstance(manifest, dict) or k not in manifest]
    if missing or not isinstance(manifest["model"], dict) or "id" not in manifest["model"]:
        raise UsageError(f"{m}: not an arielml build manifest (no '{(missing or ['model.id'])[0]}')")
    return FlashedBuild(m.parent, manifest)


def port_build(board: Board, *, model: Path | None = None, build_path: Path | None = None,
               cores: int | None = None, mode: str = "static", log=None):
    """(build, graph) for a board on --port: `build_path` if given, else MODEL built for the
    board (cached builds are not recompiled), else the newest build for the board in the
    cache. `graph` is MODEL's (for inputs files and --check), None without MODEL."""
    if build_path is None and model is not None:
        from arielml.build import build_model

        built = build_model(model, board, cores=cores, mode=mode, log=log)
        return built, built.compiled.graph
    if build_path is None:
        from arielml.target.flash import last_build

        build_path = last_build(board.name)
    b = read_build(build_path)
    m = b.manifest
    if m["board"] != board.name:
        raise UsageError(f"{b.out} was built for {m['board']}, not {board.name}")
    if cores is not None and cores != m["cores"]:
        raise UsageError(f"--cores {cores}: {b.out} is a {m['cores']}-core build")
    if model is None:
        return b, None
    from arielml.pipeline import load

    g = load(model)
    if g.digest != m["model"].get("sha256"):
        raise UsageError(f"{model} is not the model {b.out} was built from ({m['model']['file']})")
    return b, g


def manifest_inputs(manifest: dict, seed: int) -> dict[str, np.ndarray]:
    """Seeded inputs from the manifest's input specs, drawn as tensors_io.random_inputs
    draws them from a graph (same values for the same seed)."""
    rng = np.random.default_rng(seed)
    out = {}
    for spec in manifest["inputs"]:
        dt, shape = np.dtype(spec["dtype"]), tuple(spec["shape"])
        if dt.kind in "iu":
            info = np.iinfo(dt)
            out[spec["name"]] = rng.integers(info.min, info.max + 1, size=shape, dtype=dt)
        else:
            out[spec["name"]] = rng.standard_normal(shape).astype(dt)
    return out
