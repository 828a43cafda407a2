"""Boards are data: the shipped board files load, and bad ones fail with one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from arielml.boards import BOARDS_DIR, get_board, load_board_file, load_boards
from arielml.errors import UsageError

AN521 = (BOARDS_DIR / "qemu-an521.toml").read_text()
CLOCK_LINE = next(line for line in AN521.splitlines() if line.startswith("clock_hz ="))


def test_shipped_boards_load_with_expected_cores():
    boards = {b.name: b for b in load_boards()}
    assert len(boards["qemu-an521"].cores) == 2
    assert boards["qemu-an521"].targets == ("thumbv8m.main-none-eabihf",)
    assert len(boards["qemu-riscv32"].cores) == 4
    assert boards["qemu-riscv32"].qemu.machine == "virt"


def _write(tmp_path: Path, text: str, name: str = "qemu-an521.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_unknown_key_names_file_and_key(tmp_path):
    p = _write(tmp_path, AN521.replace('machine = "mps2-an521"', 'machine = "mps2-an521"\nspeed = 3'))
    with pytest.raises(UsageError, match=r"qemu-an521\.toml: unknown key 'qemu\.speed'"):
        load_board_file(p)


def test_unknown_key_in_array_of_tables(tmp_path):
    p = _write(tmp_path, AN521.replace('name = "cpu1"', 'name = "cpu1"\nfpu = true'))
    with pytest.raises(UsageError, match=r"unknown key 'cores\[1\]\.fpu'"):
        load_board_file(p)


def test_missing_field_names_file_and_field(tmp_path):
    p = _write(tmp_path, AN521.replace(CLOCK_LINE + "\n", "", 1))
    with pytest.raises(UsageError, match=r"qemu-an521\.toml: missing field 'cores\[0\]\.clock_hz'"):
        load_board_file(p)


def test_wrong_type_is_refused(tmp_path):
    p = _write(tmp_path, AN521.replace(CLOCK_LINE, 'clock_hz = "fast"', 1))
    with pytest.raises(UsageError, match=r"'cores\[0\]\.clock_hz' must be an integer"):
        load_board_file(p)


def test_memory_naming_missing_core_is_refused(tmp_path):
    p = _write(tmp_path, AN521.replace("cores = [0, 1]", "cores = [0, 5]", 1))
    with pytest.raises(UsageError, match=r"names no such core 5"):
        load_board_file(p)


def test_unknown_board_lists_known_ones():
    with pytest.raises(UsageError, match=r"unknown board 'nope' \(known boards: .*qemu-an521"):
        get_board("nope")


@pytest.mark.parametrize("edit,needle", [
    (lambda t: t.replace('machine = "mps2-an521"', 'machine = "mps2-an521"\ncolour = 1'), "unknown key 'qemu.colour'"),
    (lambda t: t.replace('[firmware]\ncrate = "mps2"\n', '[firmware]\n'), "missing field 'firmware.crate'"),
    (lambda t: t + "\n[[cores]\n", "not valid TOML"),
])
def test_cli_reports_bad_board_in_one_line_with_exit_2(tmp_path, edit, needle):
    p = _write(tmp_path, edit(AN521))
    proc = subprocess.run([sys.executable, "-m", "arielml", "doctor", "--board", str(p)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert str(p) in lines[0] and needle in lines[0]
    assert "Traceback" not in proc.stderr


def test_boards_command_lists_every_board():
    proc = subprocess.run([sys.executable, "-m", "arielml", "boards"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert names == sorted(p.stem for p in BOARDS_DIR.glob("*.toml"))


def test_boards_command_shows_each_image_of_multi_image_boards():
    proc = subprocess.run([sys.executable, "-m", "arielml", "boards"], capture_output=True, text=True, timeout=60)
    line = next(x for x in proc.stdout.splitlines() if x.startswith("stm32h745 "))
    assert "cm7 1024+128, cm4 1024+288; shared axisram 512 KiB" in line
