"""A firmware that panics, faults or deadlocks is reported in one line naming the core and
the task it was on (firmware/runtime/src/fault.rs, target/protocol/reports.py).

The faults are put into one chosen task by the test-only ARIELML_TEST_INJECT variable
(codegen/model_rs.py): an undefined instruction, a panic, or a spin that never ends. The
two-core schedule of ad01 is taken from a clean build first; the injected builds must
have the same tasks, so the task numbers the tests expect are the schedule's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _models import MODELS_DIR
from arielml.boards import get_board
from arielml.build import build_model
from arielml.codegen.model_rs import INJECT_ENV
from arielml.oracle.tensors_io import random_inputs
from arielml.target.device import qemu_device
from arielml.target.protocol import FirmwareFault, NoReply

pytestmark = pytest.mark.qemu

MODEL = MODELS_DIR / "ad01_int8.tflite"
# The AN521 with one image per core: the cores share the executor's words, not the runtime's statics.
IMAGES = str(Path(__file__).resolve().parents[1] / "boards" / "qemu-an521-images.toml")
BOARDS = ["qemu-an521", "qemu-riscv32", IMAGES]
IDS = ["qemu-an521", "qemu-riscv32", "qemu-an521-images"]
# Armv6-M code (the RP2040's) on the AN521: its HardFault trampoline and atomics without CAS.
M0PLUS = str(Path(__file__).resolve().parents[1] / "boards" / "qemu-an521-m0plus.toml")


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """build(board, inject, cores): ad01 built with INJECT_ENV=inject ("" for none)."""
    cache = {}

    def get(board_name: str, inject: str = "", cores: int = 2):
        key = (board_name, inject, cores)
        if key not in cache:
            out = tmp_path_factory.mktemp(f"fault-{Path(board_name).stem}-{inject.replace(':', '')}-{cores}")
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv(INJECT_ENV, inject)
                cache[key] = build_model(MODEL, get_board(board_name), cores=cores, out=out)
        return cache[key]

    return get


def _tasks(builds, board_name: str) -> list[dict]:
    return builds(board_name).manifest["tasks"]


def _injected(builds, board_name: str, inject: str, cores: int = 2):
    build = builds(board_name, inject, cores)
    assert build.manifest["tasks"] == builds(board_name, "", cores).manifest["tasks"]
    assert build.manifest["test_inject"] == inject and "test_inject" not in builds(board_name, "", cores).manifest
    assert any("fault::inject" in f.read_text() for f in (build.out / "crate" / "src").glob("model*.rs"))
    return build


def _no_qemu_left(build) -> None:
    left = subprocess.run(["pgrep", "-f", str(build.elf)], capture_output=True, text=True)
    assert left.returncode == 1, f"QEMU still runs {build.elf}: {left.stdout}"


def _infer(build, board_name: str, **kw):
    inputs = random_inputs(build.compiled.graph, 0)
    with qemu_device(build, get_board(board_name), timeout=120) as dev:
        return dev.infer(inputs, **kw)


@pytest.mark.parametrize("board_name", [*BOARDS, M0PLUS], ids=[*IDS, "qemu-an521-m0plus"])
def test_cpu_fault_names_core_task_and_op(board_name, builds):
    # A task of core 1 that reads core 0's work: it faults after a dependency wait.
    task = next(t for t in _tasks(builds, board_name) if t["core"] == 1 and t["deps"])
    build = _injected(builds, board_name, f"fault:{task['id']}")
    with pytest.raises(FirmwareFault) as e:
        _infer(build, board_name)
    f = e.value
    assert (f.kind, f.core, f.task) == ("fault", 1, task["id"])
    what = "illegal instruction" if board_name == "qemu-riscv32" else "HardFault"
    assert f"fault: {what} on core 1 in task {task['id']} (pc 0x" in str(e.value)
    assert f"task {task['id']} is {task['kind']} op {task['op']}" in str(e.value)
    assert "QEMU exited with status 102" in str(e.value)
    assert "\n" not in str(e.value)
    _no_qemu_left(build)


def test_panic_names_core_and_task(builds):
    task = next(t for t in _tasks(builds, "qemu-an521") if t["core"] == 0 and t["deps"])
    build = _injected(builds, "qemu-an521", f"panic:{task['id']}")
    with pytest.raises(FirmwareFault) as e:
        _infer(build, "qemu-an521")
    assert (e.value.kind, e.value.core, e.value.task) == ("panic", 0, task["id"])
    assert f"panic on core 0 in task {task['id']}: injected panic (" in str(e.value)
    assert "model.rs" in str(e.value)  # the location is the task's, not the injector's
    assert "QEMU exited with status 101" in str(e.value)
    _no_qemu_left(build)


@pytest.mark.parametrize("board_name", BOARDS, ids=IDS)
def test_deadlock_names_the_stuck_core_and_what_it_waits_for(board_name, builds):
    # Core 0 spins forever in a task a core-1 task reads: core 1 reports itself stuck
    # after fault::STUCK_SECONDS, naming the task it waits for and what core 0 runs.
    tasks = _tasks(builds, board_name)
    waiter = next(t for t in tasks if t["core"] == 1 and any(tasks[d]["core"] == 0 for d in t["deps"]))
    dep = next(d for d in waiter["deps"] if tasks[d]["core"] == 0)
    build = _injected(builds, board_name, f"hang:{dep}")
    with pytest.raises(FirmwareFault) as e:
        _infer(build, board_name)
    f = e.value
    assert (f.kind, f.waiter, f.dep, f.core, f.task) == ("stuck", 1, dep, 0, dep)
    assert f"stuck: core 1 waits for task {dep} (core 0, running task {dep})" in str(f)
    assert "QEMU killed" in str(f)
    _no_qemu_left(build)


def test_one_core_hang_is_a_timeout_that_says_no_core_reported(builds):
    # One core: nothing waits for the spinning task, so only the host's timeout tells.
    build = _injected(builds, "qemu-an521", "hang:0", cores=1)
    with pytest.raises(NoReply, match=r"no reply to RUN .* within 3 s: the firmware hung and no core "
                                      r"reported a fault or a stuck wait \(\d+ tasks; core 0: \d+\)"):
        _infer(build, "qemu-an521", timeout=3.0)
    _no_qemu_left(build)


def test_cli_reports_a_fault_in_one_line_and_exits_nonzero(builds, tmp_path):
    task = next(t for t in _tasks(builds, "qemu-an521") if t["core"] == 1)
    _injected(builds, "qemu-an521", f"fault:{task['id']}")  # the same tasks under injection
    env = dict(os.environ, **{INJECT_ENV: f"fault:{task['id']}", "ARIELML_CACHE": str(tmp_path)})
    proc = subprocess.run([sys.executable, "-m", "arielml", "run", str(MODEL), "--board", "qemu-an521",
                           "--cores", "2"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 4, proc.stderr
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert f"fault: HardFault on core 1 in task {task['id']} (pc 0x" in last, proc.stderr
    assert "QEMU exited with status 102" in last
    left = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert left.returncode == 1, left.stdout


def test_a_clean_build_still_runs(builds):
    build = builds("qemu-an521")
    assert "fault::inject" not in (build.out / "crate" / "src" / "model.rs").read_text()
    result = _infer(build, "qemu-an521")
    assert all(np.isfinite(v).all() for v in result.outputs.values())
