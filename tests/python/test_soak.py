"""Soak and repeatability on the emulated dual-core board.

- Many consecutive inferences in ONE QEMU session on 2 cores, each with new inputs, every
  output compared with the host run of the same tiling (the executor's epochs, the serial
  link and the arena must survive long runs). CI runs ARIELML_SOAK_RUNS (default 200);
  the full count: `ARIELML_SOAK_RUNS=1000 .venv/bin/python -m pytest tests/python/test_soak.py`.
- Fresh QEMU sessions of one parallel build, each giving identical outputs for one input
  (ARIELML_REPEAT_RUNS, default 10; the full count 100).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from _models import MODELS_DIR
from arielml.boards import get_board
from arielml.build import build_model
from arielml.oracle.host import execution_order, run_tasks
from arielml.oracle.tensors_io import random_inputs
from arielml.target.device import qemu_device

pytestmark = [pytest.mark.qemu, pytest.mark.slow]

SOAK_RUNS = int(os.environ.get("ARIELML_SOAK_RUNS", "200"))
REPEAT_RUNS = int(os.environ.get("ARIELML_REPEAT_RUNS", "10"))
BOARD = get_board("qemu-an521")


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    return build_model(MODELS_DIR / "ad01_int8.tflite", BOARD, cores=2, out=tmp_path_factory.mktemp("soak"))


def _host(build, inputs):
    c = build.compiled
    env = run_tasks(c.graph, inputs, c.tasks, execution_order(c.schedule), c.lowered)
    return {n: env[n] for n in c.graph.outputs}


def test_soak_one_session_changing_inputs(build):
    g = build.compiled.graph
    with qemu_device(build, BOARD) as dev:
        assert dev.hello.cores == 2
        for i in range(SOAK_RUNS):
            inputs = random_inputs(g, 1000 + i)
            got = dev.infer(inputs).outputs
            want = _host(build, inputs)
            for name in g.outputs:
                assert np.array_equal(got[name], want[name]), f"inference {i}: {name} differs"


def test_fresh_sessions_give_identical_outputs(build):
    g = build.compiled.graph
    inputs = random_inputs(g, 5)
    want = _host(build, inputs)
    for i in range(REPEAT_RUNS):
        with qemu_device(build, BOARD) as dev:
            got = dev.infer(inputs).outputs
        for name in g.outputs:
            assert np.array_equal(got[name], want[name]), f"session {i}: {name} differs"
