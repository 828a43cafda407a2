"""`arielml flash` without hardware: which way it picks, its default artifact, and one-line
errors (exit 3 with nothing to flash with, exit 2 for a bad artifact or board)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arielml.boards import get_board
from arielml.build.uf2 import encode
from arielml.target.flash import last_build, resolve

BOARD = get_board("rp2040")


def fake_build(cache: Path, name: str, board: str = "rp2040") -> Path:
    d = cache / "builds" / name
    d.mkdir(parents=True)
    (d / "firmware.elf").write_bytes(b"\x7fELF fake")
    (d / "firmware.uf2").write_bytes(encode({0x1000_0000: b"\x00" * 256}, 0xE48BFF56))
    (d / "manifest.json").write_text(json.dumps({"board": board, "artifacts": {"elf": "firmware.elf"}}))
    return d


def run_flash(args, env_extra, path: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=path, **env_extra)
    return subprocess.run([sys.executable, "-m", "arielml", "flash", *args], capture_output=True, text=True,
                          env=env, timeout=60)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    c = tmp_path / "cache"
    c.mkdir()
    monkeypatch.setenv("ARIELML_CACHE", str(c))
    monkeypatch.setenv("ARIELML_UF2_DRIVES", str(tmp_path / "media" / "*"))
    return c


def test_nothing_to_flash_with_is_one_line_exit_3(cache, tmp_path):
    fake_build(cache, "kws-rp2040-2c")
    proc = run_flash(["--board", "rp2040"], {}, path=str(tmp_path / "empty-bin"))
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot flash rp2040"), proc.stderr
    assert "picotool" in lines[0] and "probe-rs" in lines[0] and "Traceback" not in proc.stderr


def test_no_build_is_a_clear_error(cache, tmp_path):
    proc = run_flash(["--board", "rp2040"], {}, path=str(tmp_path / "empty-bin"))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "no build for board rp2040" in proc.stderr and "arielml build" in proc.stderr


def test_emulated_board_has_nothing_to_flash(cache, tmp_path):
    fake_build(cache, "kws-an521", board="qemu-an521")
    proc = run_flash(["--board", "qemu-an521"], {}, path=str(tmp_path / "empty-bin"))
    assert proc.returncode == 2 and "emulated" in proc.stderr


def test_board_mismatch_is_refused(cache, tmp_path):
    d = fake_build(cache, "x", board="qemu-an521")
    proc = run_flash(["--board", "rp2040", str(d)], {}, path=str(tmp_path / "empty-bin"))
    assert proc.returncode == 2 and "built for qemu-an521, not rp2040" in proc.stderr


def test_default_artifact_is_the_newest_build_for_the_board(cache):
    old = fake_build(cache, "old")
    new = fake_build(cache, "new")
    fake_build(cache, "other", board="qemu-an521")
    t = time.time()
    os.utime(old / "manifest.json", (t - 100, t - 100))
    os.utime(new / "manifest.json", (t, t))
    assert last_build("rp2040") == new
    assert last_build(None) == new  # without --board: the newest build of a real board
    board, a = resolve(None, None)
    assert board.name == "rp2040" and a.uf2 == new / "firmware.uf2" and a.elf == new / "firmware.elf"


def test_copies_to_a_mounted_uf2_drive(cache, tmp_path):
    d = fake_build(cache, "kws")
    drive = tmp_path / "media" / "RPI-RP2"
    drive.mkdir(parents=True)
    (drive / "INFO_UF2.TXT").write_text("UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\nBoard-ID: RPI-RP2\n")
    proc = run_flash(["--board", "rp2040"], {}, path=str(tmp_path / "empty-bin"))
    assert proc.returncode == 0, proc.stderr
    assert (drive / "firmware.uf2").read_bytes() == (d / "firmware.uf2").read_bytes()
    assert "RPI-RP2" in proc.stderr


def _fake_tool(bindir: Path, name: str, log: Path) -> None:
    bindir.mkdir(exist_ok=True)
    tool = bindir / name
    tool.write_text(f'#!/bin/sh\necho "$0 $@" >> "{log}"\n')
    tool.chmod(0o755)


def test_picotool_loads_and_runs_the_uf2(cache, tmp_path):
    d = fake_build(cache, "kws")
    log = tmp_path / "called"
    _fake_tool(tmp_path / "bin", "picotool", log)
    _fake_tool(tmp_path / "bin", "probe-rs", tmp_path / "probe-called")
    proc = run_flash([str(d / "firmware.uf2")], {}, path=str(tmp_path / "bin"))
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().split()[1:] == ["load", "-x", str(d / "firmware.uf2")]
    assert not (tmp_path / "probe-called").exists()


def test_probe_rs_downloads_the_elf(cache, tmp_path):
    d = fake_build(cache, "kws")
    log = tmp_path / "called"
    _fake_tool(tmp_path / "bin", "probe-rs", log)
    proc = run_flash(["--board", "rp2040"], {}, path=str(tmp_path / "bin"))
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().split()[1:] == ["download", "--chip", "RP2040", str(d / "firmware.elf")]


def test_failing_tool_is_one_line_exit_4(cache, tmp_path):
    fake_build(cache, "kws")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "picotool").write_text("#!/bin/sh\necho 'No accessible RP-series devices in BOOTSEL mode were found.' >&2\nexit 1\n")
    (bindir / "picotool").chmod(0o755)
    proc = run_flash(["--board", "rp2040"], {}, path=str(bindir))
    assert proc.returncode == 4
    lines = proc.stderr.strip().splitlines()  # the command it ran (progress), then the error
    assert lines[-1] == "error: picotool failed: No accessible RP-series devices in BOOTSEL mode were found."
    assert "Traceback" not in proc.stderr


def fake_two_image_build(cache: Path, name: str, board: str) -> Path:
    d = cache / "builds" / name
    d.mkdir(parents=True)
    for f in ("firmware.elf", "firmware-image1.elf"):
        (d / f).write_bytes(b"\x7fELF fake")
    (d / "manifest.json").write_text(json.dumps({
        "board": board, "artifacts": {"elf": "firmware.elf"},
        "images": [{"cores": [0], "elf": "firmware.elf"}, {"cores": [1], "elf": "firmware-image1.elf"}]}))
    return d


@pytest.mark.parametrize("board,chip", [("nrf5340", "nRF5340_xxAA"), ("stm32h745", "STM32H745ZITx")])
def test_probe_rs_downloads_every_image_then_resets(cache, tmp_path, board, chip):
    d = fake_two_image_build(cache, "kws", board)
    log = tmp_path / "called"
    _fake_tool(tmp_path / "bin", "probe-rs", log)
    proc = run_flash(["--board", board], {}, path=str(tmp_path / "bin"))
    assert proc.returncode == 0, proc.stderr
    calls = [line.split()[1:] for line in log.read_text().splitlines()]
    assert calls == [["download", "--chip", chip, str(d / "firmware-image1.elf")],
                     ["download", "--chip", chip, str(d / "firmware.elf")],
                     ["reset", "--chip", chip]]


def test_multi_image_board_without_probe_rs_names_it(cache, tmp_path):
    fake_two_image_build(cache, "kws", "nrf5340")
    (tmp_path / "bin").mkdir()
    proc = run_flash(["--board", "nrf5340"], {}, path=str(tmp_path / "bin"))
    assert proc.returncode == 3
    assert proc.stderr.strip().splitlines() == [
        "error: cannot flash nrf5340: probe-rs is not on PATH; install probe-rs (`cargo install probe-rs-tools`) "
        "and connect a debug probe (SWD)"]


def test_one_image_of_a_multi_image_build_is_refused(cache, tmp_path):
    d = fake_two_image_build(cache, "kws", "stm32h745")
    proc = run_flash([str(d / "firmware-image1.elf")], {}, path=str(tmp_path))
    assert proc.returncode == 2
    assert "give its build directory" in proc.stderr and "Traceback" not in proc.stderr
    (d / "firmware-image1.elf").unlink()
    proc = run_flash([str(d)], {}, path=str(tmp_path))
    assert proc.returncode == 2 and "firmware-image1.elf is missing" in proc.stderr
