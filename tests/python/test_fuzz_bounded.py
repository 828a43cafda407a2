"""The fuzz harness (benchmarks/fuzz.py) in CI: a bounded, seeded run of each format must
end with no traceback, signal or hang (its exit status says so); the long runs are the
script's own (`--cases 10000`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("fmt,cases", [("tflite", 400), ("onnx", 300)])
def test_bounded_fuzz_run_has_no_traceback(fmt, cases):
    p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fuzz.py"), "--format", fmt,
                        "--cases", str(cases), "--seed", "7", "--cli-every", "100"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    summary = p.stdout.strip().splitlines()
    assert f"{fmt}: {cases} cases" in summary[-2] and "traceback 0, hang 0" in summary[-2], p.stdout
    assert "traceback 0, signal 0, hang 0" in summary[-1], p.stdout
    # the mutations reach past the first check: some cases import and run, many are refused
    ok = int(summary[-2].split("ok ")[1].split(",")[0])
    refused = int(summary[-2].split("refused ")[1].split(",")[0])
    assert ok > 0 and refused > 0, p.stdout
