"""SUM, REDUCE_MAX, REDUCE_MIN (int8 and float32, any axes, keep_dims or not) against TFLM
on the host, several quantizations; the firmware on qemu-an521 (qemu tier)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))

from tflite_test_models import Builder  # noqa: E402

from arielml import api  # noqa: E402
from arielml.errors import UsageError  # noqa: E402
from arielml.ir import OpKind  # noqa: E402
from arielml.oracle.check import check_tflite  # noqa: E402
from arielml.oracle.host import execution_order, run_tasks  # noqa: E402
from arielml.oracle.reference import TflmReference  # noqa: E402
from arielml.oracle.tensors_io import random_inputs  # noqa: E402
from arielml.pipeline import compile_model  # noqa: E402

SHAPE = [1, 6, 5, 8]
# (axes, keep_dims, output shape)
CASES = [([1, 2], True, [1, 1, 1, 8]), ([3], False, [1, 6, 5]), ([1], False, [1, 5, 8]),
         ([0, 1, 2, 3], True, [1, 1, 1, 1])]


def reduce_model(path: Path, dtype: str, qx=(0.05, 3), q_sum=(0.4, -7)) -> Path:
    b = Builder()
    x = b.act(SHAPE, dtype, qx if dtype == "int8" else None)
    outs = []
    for axes, keep, shape in CASES:
        for code, q in (("SUM", q_sum), ("REDUCE_MAX", qx), ("REDUCE_MIN", qx)):
            y = b.act(shape, dtype, q if dtype == "int8" else None)
            outs.append(b.op(code, [x, b.i32(axes)], [y], "ReducerOptions", keepDims=keep))
    path.write_bytes(b.build([x], outs))
    return path


def _check(path: Path, int_tensors: bool):
    ref = TflmReference(path)
    for cores in (1, 2):
        c = compile_model(path, cores=cores)
        assert {OpKind.SUM, OpKind.REDUCE_MAX, OpKind.REDUCE_MIN} <= {op.kind for op in c.graph.ops}
        for seed in range(3):
            x = random_inputs(c.graph, seed)
            env = run_tasks(c.graph, x, c.tasks, execution_order(c.schedule), c.lowered)
            report = check_tflite(c.graph, path, x, env, ref)
            assert report.ok, report.summary()
            assert (report.int_tensors if int_tensors else report.float_tensors) >= len(CASES) * 3


@pytest.mark.parametrize("qx,q_sum", [((0.05, 3), (0.4, -7)), ((0.2, -128), (25.0, -100)),
                                      ((0.003, 127), (0.05, 0))])
def test_int8_reductions_match_tflm(tmp_path, qx, q_sum):
    _check(reduce_model(tmp_path / "r.tflite", "int8", qx, q_sum), True)


def test_float_reductions_match_tflm(tmp_path):
    _check(reduce_model(tmp_path / "r.tflite", "float32"), False)


def test_int8_max_with_a_new_quantization_is_refused(tmp_path):
    b = Builder()
    x = b.act(SHAPE, "int8", (0.05, 3))
    y = b.op("REDUCE_MAX", [x, b.i32([1])], [b.act([1, 5, 8], "int8", (0.1, 3))], "ReducerOptions")
    (tmp_path / "m.tflite").write_bytes(b.build([x], [y]))
    with pytest.raises(UsageError, match="REDUCE_MAX int8 needs the same input and output"):
        compile_model(tmp_path / "m.tflite")


@pytest.mark.qemu
@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_reductions_run_in_firmware(tmp_path, dtype):
    path = reduce_model(tmp_path / "r.tflite", dtype, (0.2, -128), (25.0, -100))
    ran = api.run(path, "qemu-an521", cores=2, inputs=[random_inputs(api.load(path), s) for s in range(2)])
    verdict = api.check(ran)
    assert verdict.ok, verdict.summary()
