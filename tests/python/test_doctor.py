"""`arielml doctor` finds what is installed and names the fix for what is not.

Tools are hidden by running doctor with a PATH holding links to only some of them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from arielml.boards import load_boards
from arielml.target.doctor import check_all


def _doctor(*args: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run([sys.executable, "-m", "arielml", "doctor", *args],
                          capture_output=True, text=True, timeout=120, env=env)


def _bin_dir(tmp_path: Path, hide: set[str]) -> str:
    """A PATH mirroring the real one for the tools doctor looks for, minus `hide`.

    Each PATH entry gets its own directory of links, in order, so that both rustup's
    rustc and Debian's are still seen when both are installed.
    """
    wanted = {"rustc", "cargo", "rustup", "ld.lld", "qemu-system-arm", "qemu-system-riscv32"}
    dirs = []
    for i, entry in enumerate(os.environ["PATH"].split(os.pathsep)):
        src = Path(entry)
        if not src.is_dir():
            continue
        names = [p.name for p in src.iterdir() if p.name in wanted or p.name.startswith("ld.lld-")]
        names = [n for n in names if n not in hide and not (n.startswith("ld.lld") and "ld.lld" in hide)]
        if names:
            d = tmp_path / f"bin{i}"
            d.mkdir()
            for n in names:
                (d / n).symlink_to(src / n)
            dirs.append(str(d))
    return os.pathsep.join(dirs)


def test_doctor_passes_on_this_machine():
    proc = _doctor()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all required tools found" in proc.stdout
    findings = check_all(load_boards())
    assert all(f.ok for f in findings if f.required)


def test_missing_qemu_is_reported_with_fix_and_nonzero_exit(tmp_path):
    proc = _doctor("--board", "qemu-an521", path=_bin_dir(tmp_path, {"qemu-system-arm"}))
    assert proc.returncode == 3
    assert "MISSING qemu-system-arm: fix: sudo apt-get install -y qemu-system-arm" in proc.stdout
    assert "ok      rust thumbv8m.main-none-eabihf" in proc.stdout
    assert proc.stderr.strip() == "error: missing: qemu-system-arm (qemu-an521); run the fix commands above"


def test_missing_rust_toolchain_is_reported_with_fix(tmp_path):
    proc = _doctor("--board", "qemu-riscv32", path=_bin_dir(tmp_path, {"rustc", "cargo", "rustup"}))
    assert proc.returncode == 3
    assert "MISSING rust riscv32imac-unknown-none-elf: fix: " in proc.stdout
    assert "rustc-web" in proc.stdout
    assert "ok      qemu-system-riscv32" in proc.stdout


def test_missing_linker_is_reported(tmp_path):
    # Debian's rustc has no usable rust-lld, so without ld.lld its build-std toolchain
    # cannot link; rustup is hidden too, so no prebuilt target can stand in.
    proc = _doctor("--board", "qemu-an521", path=_bin_dir(tmp_path, {"ld.lld", "rustup"}))
    assert proc.returncode == 3
    assert "MISSING rust thumbv8m.main-none-eabihf" in proc.stdout
    assert "lld-19" in proc.stdout


def test_flashing_tools_are_reported_for_real_boards_but_optional(tmp_path):
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "picotool").write_text("#!/bin/sh\nexit 0\n")
    (fake / "picotool").chmod(0o755)
    base = _bin_dir(tmp_path, {"picotool", "probe-rs"})
    absent = _doctor("--board", "rp2040", path=base)
    assert absent.returncode == 0, absent.stdout + absent.stderr
    assert "absent  picotool: not found (optional: flashing); fix: install picotool" in absent.stdout
    present = _doctor("--board", "rp2040", path=os.pathsep.join([str(fake), base]))
    assert f"ok      picotool: {fake / 'picotool'}" in present.stdout
    assert "qemu" not in present.stdout  # a real board needs no emulator
