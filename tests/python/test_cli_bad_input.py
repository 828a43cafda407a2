"""Hand-made bad inputs a careless user gives the CLI: each ends in ONE `error:` line and
exit 2, before any work is done (no traceback, no build, no emulator)."""

from __future__ import annotations

import numpy as np
import pytest

from _cli import cli, one_error_line
from _models import MODELS_DIR
from arielml.boards import BOARDS_DIR

MODEL = MODELS_DIR / "ad01_int8.tflite"
AN521 = (BOARDS_DIR / "qemu-an521.toml").read_text()




@pytest.mark.parametrize("args,needle", [
    (("run", MODEL, "--cores", "0"), "--cores"),
    (("run", MODEL, "--cores", "-1"), "--cores"),
    (("run", MODEL, "--cores", "99"), "--cores 99"),
    (("build", MODEL, "--board", "qemu-an521", "--cores", "3"), "has 2 core"),
    (("build", MODEL, "--board", "qemu-an521", "--cores", "0"), "--cores"),
    (("schedule", MODEL, "--board", "qemu-riscv32", "--cores", "5"), "has 4 core"),
    (("bench", MODEL, "--board", "qemu-an521", "--cores", "-2"), "--cores"),
    (("profile", MODEL, "--board", "qemu-an521", "--cores", "0"), "--cores"),
    (("run", MODEL, "--seed", "-1"), "--seed"),
    (("schedule", MODEL, "--board", "qemu-an521", "--schedule", "exact", "--time-limit", "-1"), "--time-limit"),
    (("schedule", MODEL, "--board", "qemu-an521", "--time-limit", "0"), "--time-limit"),
    (("run", MODEL, "--bogus"), "--bogus"),
    (("run",), "MODEL"),
    (("frobnicate",), "frobnicate"),
])
def test_bad_options_are_one_line_and_exit_2(capsys, args, needle):
    code, _, err = cli(capsys, *args)
    assert code == 2
    assert needle in one_error_line(err)


def test_missing_output_directories_are_refused_before_any_work(capsys, tmp_path):
    missing = tmp_path / "no" / "such"
    for args, opt in [(("run", MODEL, "--outputs", missing / "o.npz"), "--outputs"),
                      (("schedule", MODEL, "--board", "qemu-an521", "--gantt", missing / "g.svg"), "--gantt"),
                      (("bench", MODEL, "--board", "qemu-an521", "--json", missing / "b.json"), "--json")]:
        code, out, err = cli(capsys, *args)
        assert code == 2 and out == ""
        assert one_error_line(err).startswith(f"error: {opt} ") and "does not exist" in err


def test_inputs_that_are_not_an_npz_archive(capsys, tmp_path):
    npy = tmp_path / "x.npy"
    np.save(npy, np.zeros(640, np.int8))
    empty = tmp_path / "empty.npz"
    np.savez(empty)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    for path, needle in [(npy, "not an .npz archive"), (empty, "no array for input"),
                         (garbage, "not a readable .npz")]:
        code, _, err = cli(capsys, "run", MODEL, "--inputs", path)
        assert code == 2
        assert needle in one_error_line(err)


@pytest.mark.parametrize("edit,needle", [
    (lambda t: t.replace("clock_hz = 20_000_000", "clock_hz = 0", 1), "clock_hz' must be a positive"),
    (lambda t: t.replace("clock_hz = 20_000_000", "clock_hz = -7", 1), "clock_hz' must be a positive"),
    (lambda t: t.replace("stack_bytes = 65536", "stack_bytes = -5"), "stack_bytes' must be positive"),
    (lambda t: t.replace("stack_bytes = 65536", "stack_bytes = 1001"), "multiple of 8"),
    (lambda t: t.replace("origin = 0x3800_0000", "origin = -16"), "origin' must be a non-negative"),
    (lambda t: t.replace("origin = 0x3800_0000", "origin = 0x3800_0002"), "4-byte aligned"),
    (lambda t: t.replace("size = 0x0020_0000", "size = 0"), "size' must be positive"),
    (lambda t: t.replace("size = 0x0020_0000", "size = 0xffff_ffff"), "32-bit address space"),
    (lambda t: t.replace("cores = [0, 1]", "cores = []", 1), "at least one core"),
    (lambda t: t.replace("counter_hz = 20_000_000", "counter_hz = 0"), "counter_hz' must be positive"),
])
def test_meaningless_board_values_are_refused(capsys, tmp_path, edit, needle):
    text = edit(AN521)
    assert text != AN521
    board = tmp_path / "qemu-an521.toml"
    board.write_text(text)
    code, _, err = cli(capsys, "schedule", MODEL, "--board", board)
    assert code == 2
    assert needle in one_error_line(err)


def test_board_file_that_is_not_utf8(capsys, tmp_path):
    board = tmp_path / "qemu-an521.toml"
    board.write_bytes(AN521.encode().replace(b"QEMU", b"\xff\xfe", 1))
    code, _, err = cli(capsys, "schedule", MODEL, "--board", board)
    assert code == 2
    assert "not UTF-8" in one_error_line(err)
