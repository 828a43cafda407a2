"""A SIGTERM'd run leaves no emulator behind: QEMU runs in its own session (so Ctrl-C in
the terminal does not hit it directly), and `arielml` must end it on every way out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from _models import MODELS_DIR

pytestmark = pytest.mark.qemu


def _children_running(pid: int, needle: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        # The emulator running firmware: argv[0] is it (not a wrapper still about to exec
        # it), and it has a -kernel (not `qemu-system-arm --version` from the tool check).
        args = cmd.split(b"\0")
        if int(fields[1]) == pid and fields[0] != "Z" and needle.encode() in args[0] and b"-kernel" in args:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start(args: list[str], tmp_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "arielml", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)


def _wait_for_qemu(proc: subprocess.Popen, timeout: float = 600) -> int | None:
    """The QEMU child's pid once it runs, or None if the run ended first."""
    until = time.monotonic() + timeout
    while time.monotonic() < until and proc.poll() is None:
        kids = _children_running(proc.pid, "qemu-system")
        if kids:
            return kids[0]
        time.sleep(0.005)
    return None


def _terminate_and_check(proc: subprocess.Popen, qemu: int) -> None:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith(("building", "["))]
    assert lines and lines[-1].startswith("error: terminated by SIGTERM"), err
    assert "Traceback" not in err
    until = time.monotonic() + 10
    while _alive(qemu) and time.monotonic() < until:
        time.sleep(0.05)
    assert not _alive(qemu), f"QEMU {qemu} outlived the SIGTERM'd arielml"


def test_sigterm_during_hello_stops_qemu(tmp_path):
    # -S: QEMU starts with its CPUs halted, so the roll call waits for the whole timeout.
    proc = _start(["hello", "--board", "qemu-an521", "--timeout", "300", "--qemu-arg=-S"], tmp_path)
    try:
        qemu = _wait_for_qemu(proc)
        assert qemu is not None, proc.communicate()[1]
        time.sleep(0.5)  # well inside the wait for the cores to report
        _terminate_and_check(proc, qemu)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sigterm_during_run_stops_qemu(tmp_path):
    model = MODELS_DIR / "ad01_int8.tflite"
    for _attempt in range(5):
        proc = _start(["run", str(model), "--board", "qemu-an521", "--cores", "1"], tmp_path)
        try:
            qemu = _wait_for_qemu(proc)
            if qemu is None:  # the inference was quicker than our poll: try again (now built)
                assert proc.wait() == 0, proc.communicate()[1]
                continue
            os.kill(qemu, signal.SIGSTOP)  # hold the emulator mid-run
            time.sleep(0.3)
            _terminate_and_check(proc, qemu)
            return
        finally:
            if proc.poll() is None:
                proc.kill()
    pytest.fail("QEMU never seen running in 5 runs")


def test_sigkill_of_arielml_takes_qemu_with_it(tmp_path):
    """SIGKILL runs no handler at all: the parent-death signal (target/emulator.py) ends
    QEMU when arielml dies, even with QEMU stopped (SIGSTOP) mid-run."""
    proc = _start(["hello", "--board", "qemu-an521", "--timeout", "300", "--qemu-arg=-S"], tmp_path)
    try:
        qemu = _wait_for_qemu(proc)
        assert qemu is not None, proc.communicate()[1]
        os.kill(qemu, signal.SIGSTOP)
        proc.kill()
        proc.wait(timeout=30)
        until = time.monotonic() + 10
        while _alive(qemu) and time.monotonic() < until:
            time.sleep(0.05)
        assert not _alive(qemu), f"QEMU {qemu} outlived the SIGKILL'd arielml"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_emulator_command_carries_the_parent_death_signal():
    from arielml.target import emulator

    assert emulator._SETPRIV is not None, "util-linux's setpriv is part of every Debian system"
    cmd = emulator._with_parent_death_kill(["qemu-system-arm", "-M", "mps2-an521"])
    assert cmd[1:4] == ["--pdeathsig", "KILL", "--"] and cmd[4:] == ["qemu-system-arm", "-M", "mps2-an521"]
