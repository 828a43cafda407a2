"""The spike-rv32 board: the Spike RISC-V simulator, whose mtime is parallel wall time.

Models bit-exact with TFLM there on 1, 2 and 4 harts; a spin loop shows the timer's
parallel speedup (and QEMU's icount clock showing none); a hung Spike is killed on
timeout and with the process that started it.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from _models import MODELS_DIR
from arielml.boards import get_board, load_board_file
from arielml.build import build_model
from arielml.build.cargo import build_crate
from arielml.errors import EmulatorError, UsageError
from arielml.oracle.check import check_tflite
from arielml.oracle.reference import TflmReference
from arielml.oracle.tensors_io import random_inputs
from arielml.target.qemu import run_to_exit
from arielml.target.spike import SpikeSession, spike_device

BOARD = "spike-rv32"
_SPIN = re.compile(r"spin: 1 hart (\d+) ticks, (\d+) harts (\d+) ticks")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _spin_elf(board):
    return build_crate(board, "arielml-spin", features=[board.firmware.crate], log=lambda m: None).elf


def test_board_file_runs_its_harts_on_spike():
    b = get_board(BOARD)
    assert b.emulated and b.qemu is None and b.spike.isa == "rv32imac"
    cmd = SpikeSession(b, Path("fw.elf")).command()
    assert cmd[1:3] == ["-p4", "--isa=rv32imac"] and cmd[-1] == "fw.elf"


def test_board_with_qemu_and_spike_is_refused(tmp_path):
    text = get_board(BOARD).path.read_text() + '\n[qemu]\nbinary = "qemu-system-riscv32"\nmachine = "virt"\n'
    path = tmp_path / f"{BOARD}.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=r"\[qemu\] or \[spike\], not both"):
        load_board_file(path)


@pytest.mark.qemu
@pytest.mark.parametrize("cores", [1, 2, 4])
@pytest.mark.parametrize("model", ["kws_ref_model", "ad01_int8"])
def test_bit_exact_with_tflm_on_spike(model, cores, tmp_path):
    board, path = get_board(BOARD), MODELS_DIR / f"{model}.tflite"
    build = build_model(path, board, cores=cores, out=tmp_path / "fw")
    g = build.compiled.graph
    assert {t["core"] for t in build.manifest["tasks"]} == set(range(cores))
    ref = TflmReference(path)
    with spike_device(build, board) as dev:
        assert dev.hello.cores == cores and dev.hello.board == BOARD
        outs = []
        for seed in (0, 1, 2, 0):
            x = random_inputs(g, seed)
            result = dev.infer(x)
            report = check_tflite(g, path, x, result.outputs, ref)
            assert report.ok, f"input {seed}: {report.summary()}"
            outs.append(result.outputs)
    for name in g.outputs:  # a repeated input: the same bytes
        assert np.array_equal(outs[0][name], outs[3][name])


@pytest.mark.qemu
def test_spike_timer_shows_parallel_speedup_and_qemu_icount_does_not():
    spike = get_board(BOARD)
    with SpikeSession(spike, _spin_elf(spike), timeout=120) as s:
        status, out = s.read_until_exit()
    m = _SPIN.search(out.decode())
    assert status == 0 and m, out
    one, harts, all_ = int(m[1]), int(m[2]), int(m[3])
    assert harts == 4 and one > 10_000
    # The same loop on every hart at once took the wall time of one: 4 harts' work.
    assert 3.9 <= harts * one / all_ <= 4.05, (one, all_)
    qemu = get_board("qemu-riscv32")
    r = run_to_exit(qemu, _spin_elf(qemu), timeout=300, extra_args=("-icount", "shift=0"))
    m = _SPIN.search(r.text)
    assert r.exit_code == 0 and m, r.text
    # icount adds the harts' instructions up: four loops read four times one.
    assert 0.9 <= int(m[2]) * int(m[1]) / int(m[3]) <= 1.1, r.text


@pytest.mark.qemu
def test_hung_spike_is_killed_after_timeout_with_clear_message():
    board = get_board(BOARD)
    # --halted: Spike waits for a debugger that never comes, so the firmware never speaks.
    session = SpikeSession(board, _spin_elf(board), timeout=2, extra_args=("--halted",))
    with pytest.raises(EmulatorError, match=r"did not finish in time; killed it"):
        with session:
            pid = session.proc.pid
            session.read_until_exit()
    assert not _alive(pid)


@pytest.mark.qemu
def test_sigkill_of_the_host_takes_spike_with_it(tmp_path):
    board = get_board(BOARD)
    elf = _spin_elf(board)
    script = ("import sys, time\nfrom arielml.boards import get_board\nfrom arielml.target.spike import SpikeSession\n"
              f"s = SpikeSession(get_board('{BOARD}'), '{elf}', timeout=300, extra_args=('--halted',))\n"
              "s.start()\nprint(s.proc.pid, flush=True)\ntime.sleep(300)\n")
    host = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        pid = int(host.stdout.readline())
        assert _alive(pid)
        host.send_signal(signal.SIGKILL)
        host.wait(timeout=30)
        until = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < until:
            time.sleep(0.05)
        assert not _alive(pid), f"Spike {pid} outlived the SIGKILL'd host"
    finally:
        if host.poll() is None:
            host.kill()
