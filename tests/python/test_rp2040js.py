"""RP2040 firmware in rp2040js (core 0 only, no boot ROM: tools/rp2040js/run.mjs starts the
image from its vector table at 0x1000_0100, as the ROM does after boot2).

A one-core kws_ref_model build answers a full inference over the emulated UART0, bit-exact
with TFLM; the emulator stops on its time limit, on a bad image, and is killed with the
session (no node process left behind).
"""

from __future__ import annotations

import os
import struct
import time

import pytest

from _models import MODELS_DIR
from arielml.boards import get_board
from arielml.build import build_model
from arielml.errors import EmulatorError
from arielml.oracle.check import check_tflite
from arielml.oracle.tensors_io import random_inputs
from arielml.target.rp2040js import Rp2040jsSession, require_runner, rp2040js_device

KWS = MODELS_DIR / "kws_ref_model.tflite"


@pytest.fixture(scope="module", autouse=True)
def _runner():
    # scripts/setup.sh installs node and rp2040js: a missing runner is a failure, not a skip.
    require_runner()


def _crc32_mpeg2(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x8000_0000 else (crc << 1)
            crc &= 0xFFFFFFFF
    return crc


def _spin_image(tmp_path, *, good_boot2: bool = True):
    """A flash image whose reset handler is `b .`: boot2 (zeros, with its CRC), then the
    vector table at 0x1000_0100 (SP at the top of SRAM, reset at 0x1000_0108)."""
    boot2 = bytes(252)
    crc = _crc32_mpeg2(boot2) ^ (0 if good_boot2 else 1)
    image = boot2 + struct.pack("<I", crc) + struct.pack("<II", 0x2004_2000, 0x1000_0109)
    image += struct.pack("<H", 0xE7FE)  # b .
    path = tmp_path / "spin.bin"
    path.write_bytes(image)
    return path


def _gone(pid: int) -> bool:
    try:
        os.killpg(pid, 0)  # the session's process group: node and anything it started
    except ProcessLookupError:
        return True
    return False


@pytest.mark.slow
def test_kws_one_core_inference_is_bit_exact(tmp_path):
    build = build_model(KWS, get_board("rp2040"), cores=1, out=tmp_path / "kws")
    assert build.manifest["cores"] == 1
    g = build.compiled.graph
    inputs = random_inputs(g, 0)
    start = time.monotonic()
    with rp2040js_device(build, timeout=120.0) as dev:
        assert dev.hello.board == "rp2040" and dev.hello.cores == 1
        result = dev.infer(inputs, timeout=90.0)
    seconds = time.monotonic() - start
    report = check_tflite(g, KWS, inputs, result.outputs)
    assert report.ok and report.exact, report.summary()
    assert set(result.outputs) == {o["name"] for o in build.manifest["outputs"]}
    assert len(result.task_ticks) == len(build.manifest["tasks"])
    assert result.total_ticks > 0  # TIMER microseconds of emulated time
    assert seconds < 60, f"kws in rp2040js took {seconds:.1f} s"


def test_session_kills_the_emulator(tmp_path):
    with Rp2040jsSession(_spin_image(tmp_path), timeout=60.0) as s:
        pid = s.pid
        assert s.proc.poll() is None and not _gone(pid)
    assert s.proc.returncode is not None
    assert _gone(pid)


def test_emulator_stops_at_its_time_limit(tmp_path):
    with Rp2040jsSession(_spin_image(tmp_path), timeout=1.5) as s:
        assert s.proc.wait(timeout=20) == 124
        with pytest.raises(EmulatorError, match="time limit of 1.5 s"):
            s.check_alive()
    assert _gone(s.pid)


def test_image_without_boot2_is_refused(tmp_path):
    with pytest.raises(EmulatorError, match="no valid boot2"):
        with Rp2040jsSession(_spin_image(tmp_path, good_boot2=False), timeout=30.0):
            pass
