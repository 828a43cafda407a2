"""float32 whole models on the host against TFLM's float kernels: every intermediate
tensor within 1e-5 of the tensor's max |ref| (check.FLOAT_RTOL); int8 never gets a
tolerance."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))

from tflite_test_models import float_convnet  # noqa: E402

from arielml.ir import OpKind  # noqa: E402
from arielml.oracle.check import FLOAT_RTOL, CheckReport, check_tflite, compare  # noqa: E402
from arielml.oracle.host import execution_order, run_tasks  # noqa: E402
from arielml.oracle.reference import TflmReference  # noqa: E402
from arielml.oracle.tensors_io import random_inputs  # noqa: E402
from arielml.pipeline import compile_model  # noqa: E402


@pytest.fixture(scope="module")
def convnet(tmp_path_factory):
    path = tmp_path_factory.mktemp("float") / "float_convnet.tflite"
    path.write_bytes(float_convnet())
    return path


def _run(c, inputs):
    return run_tasks(c.graph, inputs, c.tasks, execution_order(c.schedule), c.lowered)


def test_float_convnet_within_1e5_of_tflm_on_every_tensor(convnet):
    ref = TflmReference(convnet)
    compiled = {cores: compile_model(convnet, cores=cores) for cores in (1, 2, 4)}
    g = compiled[1].graph
    kinds = [op.kind for op in g.ops]
    for k in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.MAX_POOL_2D, OpKind.AVERAGE_POOL_2D,
              OpKind.FULLY_CONNECTED, OpKind.SOFTMAX, OpKind.ADD, OpKind.HARD_SWISH, OpKind.TANH,
              OpKind.LEAKY_RELU, OpKind.LOGISTIC, OpKind.RELU6):
        assert k in kinds, k
    worst = 0.0
    for seed in range(5):
        inputs = random_inputs(g, seed)
        for cores, c in compiled.items():
            report = check_tflite(g, convnet, inputs, _run(c, inputs), ref)
            assert report.ok, f"seed {seed}, {cores} cores: {report.summary()}"
            assert report.float_tensors == len(g.ops) == len(report.compared)
            assert report.max_rel <= FLOAT_RTOL
            worst = max(worst, report.max_rel)
    print(f"float convnet: worst relative error {worst:.3g}")  # measured: ~4e-7


def test_float_tolerance_catches_a_wrong_bias(convnet):
    c = compile_model(convnet)
    conv = next(low for low in c.lowered if low.op.kind is OpKind.DEPTHWISE_CONV_2D)
    conv.consts["bias"] = conv.consts["bias"] + np.float32(1e-3)
    inputs = random_inputs(c.graph, 0)
    report = check_tflite(c.graph, convnet, inputs, _run(c, inputs))
    assert not report.ok
    assert report.mismatches[0].tensor == c.graph.ops[conv.index].outputs[0]
    assert report.mismatches[0].max_rel > FLOAT_RTOL
    assert "max rel" in report.summary()


def test_int8_gets_no_tolerance_and_float_a_relative_one():
    report = CheckReport("test")
    a = np.arange(-50, 50, dtype=np.int8)
    b = a.copy()
    b[3] += 1
    compare(report, "i8", b, a)
    assert not report.ok and report.mismatches[0].differing == 1
    report = CheckReport("test")
    x = np.linspace(-2, 2, 100, dtype=np.float32)
    compare(report, "near", x + np.float32(1e-6), x)  # 5e-7 relative to max |x| = 2
    assert report.ok and 0 < report.max_rel <= FLOAT_RTOL
    compare(report, "far", x + np.float32(1e-4), x)
    assert [m.tensor for m in report.mismatches] == ["far"]
    compare(report, "nan", np.where(x > 1, np.nan, x).astype(np.float32), x)
    assert report.mismatches[-1].tensor == "nan"
