"""The bundled demo (scripts/demo.sh's model) through the CLI on the emulated board."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "arielml", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.qemu
def test_demo_model_runs_on_qemu_an521_and_matches_tflm(tmp_path):
    model = tmp_path / "demo_int8.tflite"
    gen = subprocess.run([sys.executable, str(ROOT / "models" / "demo.py"), str(model)],
                         capture_output=True, text=True, timeout=120)
    assert gen.returncode == 0, gen.stderr
    proc = _cli("run", str(model), "--board", "qemu-an521", "--cores", "2", "--check")
    assert proc.returncode == 0, proc.stderr
    assert "ran on qemu-an521 (QEMU mps2-an521), 2 core(s)" in proc.stdout
    assert "bit-exact with TFLM" in proc.stdout


def test_run_refuses_a_board_that_is_not_emulated(tmp_path):
    text = (ROOT / "boards" / "qemu-an521.toml").read_text()
    start = text.index("[qemu]")
    board = tmp_path / "realboard.toml"
    board.write_text(text[:start].replace('name = "qemu-an521"', 'name = "realboard"'))
    model = tmp_path / "m.tflite"
    subprocess.run([sys.executable, str(ROOT / "models" / "demo.py"), str(model)], check=True,
                   capture_output=True, timeout=120)
    proc = _cli("run", str(model), "--board", str(board))
    assert proc.returncode == 2
    # One line, naming the option that makes a real board usable.
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: ") and "--port" in proc.stderr
