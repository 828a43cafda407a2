"""The first firmware on both emulated boards: every core reports in, and the run's
exit status, timeouts and process clean-up behave."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from arielml.boards import get_board
from arielml.build.cargo import build_crate
from arielml.errors import EmulatorError
from arielml.target.hello import run_hello
from arielml.target.qemu import QemuSession

pytestmark = pytest.mark.qemu


@pytest.mark.parametrize("board_name,cores", [("qemu-an521", 2), ("qemu-riscv32", 4)])
def test_every_core_reports_in(board_name, cores):
    board = get_board(board_name)
    report = run_hello(board, timeout=120)
    assert report.exit_code == 0, report.output
    assert sorted(report.cores_reported) == list(range(cores)), report.output
    assert f"all {cores} cores reported" in report.output


def test_missing_core_gives_nonzero_exit_status_to_the_host():
    # Start only 2 of the 4 harts the firmware expects: core 0 waits (bounded), names the
    # missing cores and exits with status 1, which must reach us as QEMU's exit status.
    board = get_board("qemu-riscv32")
    report = run_hello(board, timeout=120, extra_qemu_args=("-smp", "2"))
    assert report.exit_code == 1
    assert sorted(report.cores_reported) == [0, 1]
    assert "core 2 did not report" in report.output and "core 3 did not report" in report.output


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): look at its state.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_hung_emulator_is_killed_after_timeout_with_clear_message():
    board = get_board("qemu-an521")
    elf = build_crate(board, "arielml-hello", features=[board.firmware.crate], log=lambda m: None).elf
    # -S freezes the CPUs at start: from the host's side, a firmware that never answers.
    session = QemuSession(board, elf, timeout=3, extra_args=("-S",))
    with pytest.raises(EmulatorError, match=r"did not finish within 3 s; killed it"):
        with session:
            pid = session.proc.pid
            session.read_until_exit()
    assert not _pid_alive(pid)


def test_hello_cli_reports_success_and_failure():
    ok = subprocess.run([sys.executable, "-m", "arielml", "hello", "--board", "qemu-an521"],
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert "core 1 of 2 reporting" in ok.stdout
    assert "all 2 cores of qemu-an521 reported in" in ok.stderr

    hung = subprocess.run([sys.executable, "-m", "arielml", "hello", "--board", "qemu-riscv32", "--timeout", "2",
                           "--qemu-arg=-S"],
                          capture_output=True, text=True, timeout=300)
    assert hung.returncode == 4
    assert hung.stderr.strip().splitlines()[-1].startswith("error: QEMU virt")
    assert "did not finish within 2 s; killed it" in hung.stderr
    assert "Traceback" not in hung.stderr

    failed = subprocess.run([sys.executable, "-m", "arielml", "hello", "--board", "qemu-riscv32",
                             "--qemu-arg=-smp", "--qemu-arg=2"], capture_output=True, text=True, timeout=300)
    assert failed.returncode == 4
    assert "exited with status 1; cores that did not report: [2, 3]" in failed.stderr


def test_board_facts_come_from_the_board_file(tmp_path):
    """NAME and CORES are the TOML's (build/cargo.board_facts -> board_name!/board_fact!): a
    test board on the AN521's crate names itself, and a file whose counter rate disagrees
    with the crate's clock set-up does not build."""
    from pathlib import Path

    from arielml.errors import ArielError

    tests_boards = Path(__file__).resolve().parents[1] / "boards"
    board = get_board(str(tests_boards / "hetero-2to1.toml"))
    report = run_hello(board, timeout=120)
    assert report.exit_code == 0, report.output
    assert f"arielml hello: board {board.name} with 2 cores" in report.output
    text = (tests_boards / "hetero-2to1.toml").read_text().replace("counter_hz = 20_000_000", "counter_hz = 19_000_000")
    (tmp_path / "hetero-2to1.toml").write_text(text)
    with pytest.raises(ArielError, match="counter_hz: TIMER0 runs at 20 MHz"):
        build_crate(get_board(str(tmp_path / "hetero-2to1.toml")), "arielml-hello", features=["mps2"])
