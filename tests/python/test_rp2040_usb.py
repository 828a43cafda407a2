"""The RP2040's USB CDC-ACM serial link (firmware/boards/rp2040/src/usb.rs), in rp2040js.

`tools/rp2040js/run.mjs --usb` plays the USB host on rp2040js's device-mode USB controller,
as Linux's cdc_acm does when /dev/ttyACM0 is opened (enumeration, descriptors,
SET_CONFIGURATION, SET_LINE_CODING, DTR), and bridges the CDC data endpoints to the TCP port
instead of UART0. A one-core kws build then answers a full inference over USB, bit-exact
with TFLM. When the client disconnects, the runner prints what it saw ("usb summary"): the
descriptors, the byte counts in each direction, zero-length packets, and whether the USB
bytes were exactly the tail of what the firmware wrote to UART0 (it writes both).

UART0 without a USB host (the board on a battery) is tests/python/test_rp2040js.py: there
the emulated USB controller does nothing, and the same firmware must still answer.
"""

from __future__ import annotations

import json
import struct
import time

import pytest
from elftools.elf.elffile import ELFFile

from _models import MODELS_DIR
from arielml.boards import get_board
from arielml.build import build_model
from arielml.build.cargo import build_crate
from arielml.errors import EmulatorError
from arielml.oracle.check import check_tflite
from arielml.oracle.tensors_io import random_inputs
from arielml.target.device import Device
from arielml.target.protocol import Link
from arielml.target.rp2040js import Rp2040jsSession, require_runner

KWS = MODELS_DIR / "kws_ref_model.tflite"
BOARD = get_board("rp2040")
USBCTRL_IRQ = 5  # RP2040 datasheet 2.3.2: IRQ 5 is USBCTRL_IRQ
FRAME_OVERHEAD = 12  # sync 2, len 2, ~len 2, type 1, seq 1, CRC-32 4


@pytest.fixture(scope="module", autouse=True)
def _runner():
    require_runner()  # scripts/setup.sh installs node and rp2040js: missing is a failure


@pytest.fixture(scope="module")
def kws1(tmp_path_factory):
    return build_model(KWS, BOARD, cores=1, out=tmp_path_factory.mktemp("kws-usb"))


class Counted:
    """The session's pyserial port, counting the bytes the host writes and reads."""

    def __init__(self, port):
        self.port, self.written, self.read_bytes = port, 0, 0

    def write(self, data):
        self.written += len(data)
        return self.port.write(data)

    def read(self, n=1):
        data = self.port.read(n)
        self.read_bytes += len(data)
        return data

    def __getattr__(self, name):
        return getattr(self.port, name)


def usb_summary(s: Rp2040jsSession) -> dict:
    """Disconnect the client; the runner exits 0 and its last stderr line is the summary."""
    s.port.close()
    s.port = None
    assert s.proc.wait(timeout=20) == 0, s.log_tail()
    line = s.log_tail()
    prefix = "rp2040js: usb summary "
    assert line.startswith(prefix), line
    return json.loads(line[len(prefix):])


def check_enumeration(summary: dict) -> None:
    assert summary["state"] == "configured, port open"
    assert (summary["vid"], summary["pid"]) == (0x1209, 0x0001)  # pid.codes test PID
    assert summary["manufacturer"] == "arielml"
    assert summary["product"] == "arielml rp2040"
    assert summary["serial"] == "0001"
    assert summary["deviceClass"] == [0xEF, 0x02, 0x01]  # IAD composite, as TinyUSB's CDC
    assert summary["maxPacket0"] == 64
    cdc = summary["cdc"]
    assert cdc["comm"] == 0 and cdc["bulkIn"] > 0 and cdc["bulkOut"] > 0


@pytest.mark.slow
def test_kws_one_core_inference_over_usb_cdc_is_bit_exact(kws1):
    g = kws1.compiled.graph
    inputs = random_inputs(g, 0)
    start = time.monotonic()
    with Rp2040jsSession(kws1.elf, timeout=120.0, usb=True) as s:
        port = Counted(s.port)
        dev = Device(Link(port, timeout=30.0), kws1)
        assert dev.hello.board == "rp2040" and dev.hello.cores == 1
        result = dev.infer(inputs, timeout=90.0)
        seconds = time.monotonic() - start
        summary = usb_summary(s)
    report = check_tflite(g, KWS, inputs, result.outputs)
    assert report.ok and report.exact, report.summary()
    assert len(result.task_ticks) == len(kws1.manifest["tasks"]) and result.total_ticks > 0
    check_enumeration(summary)
    # every byte the host sent reached the firmware over USB and every byte it read came
    # from USB: nothing lost, nothing duplicated (UART0 is not bridged with --usb)
    assert summary["usbOut"] == port.written > 490  # kws's input tensor is 490 bytes
    assert summary["usbIn"] == port.read_bytes > 0
    # the firmware wrote every reply to UART0 too, byte for byte (UART0 also has the boot line)
    assert summary["usbIsUartTail"] and summary["uartOut"] > summary["usbIn"]
    assert seconds < 60, f"kws over USB in rp2040js took {seconds:.1f} s"


@pytest.mark.slow
def test_ping_over_usb_packets_rings_and_zero_length_packets(kws1):
    """Replies of exactly 64, 128 and 256 bytes must end with a zero-length packet (or a
    host other than Linux's would wait for more); 1024-byte payloads overflow both the
    firmware's 128-byte receive ring (the host is NAKed until the server has read) and its
    256-byte transmit ring (the writer waits for the endpoint)."""
    sizes = [0, 64 - FRAME_OVERHEAD, 128 - FRAME_OVERHEAD, 256 - FRAME_OVERHEAD, 300, 1000, 1024]
    with Rp2040jsSession(kws1.elf, timeout=120.0, usb=True) as s:
        port = Counted(s.port)
        link = Link(port, timeout=30.0)
        hello = link.hello()
        for n in sizes:
            link.ping(bytes((7 * i + n) & 0xFF for i in range(n)))  # raises unless echoed
        summary = usb_summary(s)
    check_enumeration(summary)
    replies = [FRAME_OVERHEAD + len(hello.payload())] + [FRAME_OVERHEAD + n for n in sizes]
    assert summary["usbIn"] == port.read_bytes == sum(replies)
    assert summary["usbOut"] == port.written
    assert summary["zlps"] == sum(1 for r in replies if r % 64 == 0) == 3
    # the firmware writes replies a byte at a time; they still go out in full packets, each
    # reply's rest in one short packet when the server turns to the host's next request
    assert summary["packets"] == sum(-(-r // 64) for r in replies)
    assert summary["usbIsUartTail"]


def _usb_irq_handled(elf_path) -> None:
    """USBCTRL_IRQ's vector is the board crate's handler (from `entry!`), not the default
    handler, which would spin forever on the first USB interrupt."""
    with open(elf_path, "rb") as f:
        elf = ELFFile(f)
        vt = elf.get_section_by_name(".vector_table").data()
        vector = struct.unpack_from("<I", vt, 4 * (16 + USBCTRL_IRQ))[0]
        symbols = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}
        assert vector & 1 and vector != symbols["DefaultHandler"]
        assert vector & ~1 == symbols["USBCTRL_IRQ"] & ~1
        rodata = b"".join(s.data() for s in elf.iter_sections()
                          if s.name.startswith(".rodata") or s.name == ".text")
    for text in (b"arielml rp2040", b"arielml"):
        assert text in rodata, f"descriptor string {text!r} not in the image"


@pytest.mark.slow
def test_model_image_has_the_usb_handler_and_descriptor_strings(kws1):
    _usb_irq_handled(kws1.elf)
    # The USB stack's RAM (the device and class state with the receive ring, the transmit
    # ring, the bus allocator): what build.py's fit estimate does not count for this board.
    with open(kws1.elf, "rb") as f:
        elf = ELFFile(f)
        usb_ram = sum(s["st_size"] for s in elf.get_section_by_name(".symtab").iter_symbols()
                      if s["st_info"]["type"] == "STT_OBJECT" and s["st_value"] >= 0x2000_0000
                      and "20arielml_board_rp20403usb" in s.name)  # the board crate's `usb`
    assert 256 + 128 < usb_ram <= 1536
    mem = kws1.manifest["memory"]
    assert mem["elf_ram_bytes"] + BOARD.firmware.stack_bytes <= mem["board_ram_bytes"]


@pytest.mark.slow
def test_hello_image_has_the_usb_handler():
    _usb_irq_handled(build_crate(BOARD, "arielml-hello", features=["rp2040"]).elf)


def _spin_image(tmp_path):
    """boot2 (zeros, with its CRC) and a reset handler `b .`: the USB controller stays off."""
    crc = 0xFFFFFFFF
    for byte in bytes(252):
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x8000_0000 else (crc << 1)
            crc &= 0xFFFFFFFF
    image = bytes(252) + struct.pack("<I", crc) + struct.pack("<II", 0x2004_2000, 0x1000_0109)
    path = tmp_path / "spin.bin"
    path.write_bytes(image + struct.pack("<H", 0xE7FE))
    return path


def test_usb_runner_says_when_the_firmware_never_enables_usb(tmp_path):
    with Rp2040jsSession(_spin_image(tmp_path), timeout=1.5, usb=True) as s:
        assert s.proc.wait(timeout=20) == 124
        with pytest.raises(EmulatorError, match="time limit of 1.5 s.*usb: not enabled"):
            s.check_alive()
