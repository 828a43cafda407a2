"""The five int8 MLPerf Tiny models as firmware on emulated boards, against TFLM.

Each case builds the firmware, runs it under QEMU and speaks the serial protocol through
pyserial, exactly as `arielml run --board ... --check` does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from _models import MODELS_DIR
from arielml.boards import get_board
from arielml.build import build_model
from arielml.oracle.check import check_tflite
from arielml.oracle.reference import TflmReference
from arielml.oracle.tensors_io import random_inputs
from arielml.target.device import qemu_device

pytestmark = pytest.mark.qemu

MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8", "str_ww_ref_model"]
# The same AN521 machine running Armv6-M code: the kernels an RP2040 runs, on two cores.
M0PLUS = str(Path(__file__).resolve().parents[1] / "boards" / "qemu-an521-m0plus.toml")
CASES = [("qemu-an521", 1), ("qemu-an521", 2), (M0PLUS, 2),
         ("qemu-riscv32", 1), ("qemu-riscv32", 2), ("qemu-riscv32", 4)]


PARALLEL = [case for case in CASES if case[1] > 1]


def _ids(cases):
    return [f"{Path(board).stem}-{cores}" for board, cores in cases]


@pytest.fixture(scope="module")
def refs():
    return {m: TflmReference(MODELS_DIR / f"{m}.tflite") for m in MODELS}


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """One firmware build per (model, board, cores), shared by the tests of this module."""
    cache = {}

    def get(model: str, board_name: str, cores: int):
        key = (model, board_name, cores)
        if key not in cache:
            out = tmp_path_factory.mktemp(f"{model}-{Path(board_name).stem}-{cores}")
            cache[key] = build_model(MODELS_DIR / f"{model}.tflite", get_board(board_name), cores=cores, out=out)
        return cache[key]

    return get


@pytest.mark.parametrize("board_name,cores", CASES, ids=_ids(CASES))
@pytest.mark.parametrize("model", MODELS)
def test_bit_exact_with_tflm_on_emulated_board(model, board_name, cores, refs, builds):
    board, path = get_board(board_name), MODELS_DIR / f"{model}.tflite"
    build = builds(model, board_name, cores)
    g = build.compiled.graph
    assert build.manifest["cores"] == cores
    assert {t["core"] for t in build.manifest["tasks"]} == set(range(cores))
    with qemu_device(build, board) as dev:
        assert dev.hello.cores == cores
        first = None
        runs = 10 if cores > 1 else 5
        for i in range(runs):
            seed = i % 5
            inputs = random_inputs(g, seed)
            result = dev.infer(inputs)
            report = check_tflite(g, path, inputs, result.outputs, refs[model])
            assert report.ok, f"input {seed}: {report.summary()}"
            if seed == 0:
                # Repeated parallel runs of one input: every run identical.
                first = first or result.outputs
                for name in g.outputs:
                    assert np.array_equal(first[name], result.outputs[name])
            assert len(result.task_ticks) == len(build.manifest["tasks"])


@pytest.mark.parametrize("board_name,cores", PARALLEL, ids=_ids(PARALLEL))
@pytest.mark.parametrize("model", MODELS)
def test_parallel_runs_identical_with_host_threads_per_core(model, board_name, cores, refs, builds):
    """-accel tcg,thread=multi runs each emulated core on its own host thread: real
    concurrency, so a missing dependency or overlapping buffer would show up here."""
    board, path = get_board(board_name), MODELS_DIR / f"{model}.tflite"
    build = builds(model, board_name, cores)
    g = build.compiled.graph
    inputs = random_inputs(g, 11)
    with qemu_device(build, board, extra_args=("-accel", "tcg,thread=multi")) as dev:
        outs = [dev.infer(inputs).outputs for _ in range(10)]
    report = check_tflite(g, path, inputs, outs[0], refs[model])
    assert report.ok, report.summary()
    for o in outs[1:]:
        for name in g.outputs:
            assert np.array_equal(o[name], outs[0][name])
