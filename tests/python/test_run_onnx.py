"""ONNX models on the host against onnxruntime (NCHW in, NHWC in the IR): float32 within
1e-5 relative; QDQ int8 (onnxruntime's quantize_static, per-channel and per-tensor)
within 1 LSB per op, with the differing fraction reported. See arielml.oracle.check."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))

from onnx_test_models import write_all  # noqa: E402

from arielml.ir import OpKind  # noqa: E402
from arielml.oracle.check import FLOAT_RTOL, check_onnx, onnx_inputs  # noqa: E402
from arielml.oracle.host import execution_order, run_tasks  # noqa: E402
from arielml.oracle.reference import OnnxReference  # noqa: E402
from arielml.oracle.tensors_io import random_inputs  # noqa: E402
from arielml.pipeline import compile_model  # noqa: E402

SEEDS = range(4)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return write_all(tmp_path_factory.mktemp("onnx"))


def _run(c, inputs):
    return run_tasks(c.graph, inputs, c.tasks, execution_order(c.schedule), c.lowered)


def _check_all(path, cores=(1, 3)):
    reports = []
    compiled = {n: compile_model(path, cores=n) for n in cores}
    g = compiled[cores[0]].graph
    ref = OnnxReference(path, tuple(g.tensors))
    for seed in SEEDS:
        inputs = random_inputs(g, seed)
        for n, c in compiled.items():
            report = check_onnx(g, path, inputs, _run(c, inputs), ref, lowered=c.lowered)
            assert report.ok, f"seed {seed}, {n} cores: {report.summary()}"
            reports.append(report)
    return g, reports


@pytest.mark.parametrize("name", ["float", "ops"])
def test_float_onnx_within_1e5_of_onnxruntime(models, name):
    g, reports = _check_all(models[name])
    for r in reports:
        assert r.int_tensors == 0 and r.float_tensors >= len(g.outputs) + 4
        assert r.max_rel <= FLOAT_RTOL
    print(f"{name}: worst relative error {max(r.max_rel for r in reports):.3g}")  # ~3e-7


@pytest.mark.parametrize("name", ["qdq_per_channel", "qdq_per_tensor"])
def test_qdq_onnx_within_one_lsb_of_onnxruntime(models, name):
    g, reports = _check_all(models[name])
    kinds = {op.kind for op in g.ops}
    assert {OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.MAX_POOL_2D, OpKind.AVERAGE_POOL_2D,
            OpKind.ADD, OpKind.CONCATENATION, OpKind.FULLY_CONNECTED, OpKind.SOFTMAX,
            OpKind.QUANTIZE, OpKind.DEQUANTIZE} <= kinds
    differing = sum(r.int_differing for r in reports)
    total = sum(r.int_elements for r in reports)
    for r in reports:
        assert r.int_lsb == 1 and r.max_lsb <= 1
        assert r.int_tensors >= 10  # every op output onnxruntime names, not only outputs
        assert re.search(r"int8 within 1 LSB: \d+/\d+ elements differ \(\d+\.\d+%\)|int8 identical",
                         r.summary()), r.summary()
        assert "end to end:" in r.summary()
    # Rounding disagreements are rare (measured ~0.1% of elements); a systematic
    # one-LSB error would show up here although each element is within 1 LSB.
    assert differing / total < 0.01, (differing, total)
    print(f"{name}: {differing}/{total} int8 elements differ by 1 LSB")


def test_onnx_check_catches_an_output_offset_error(models):
    path = models["qdq_per_channel"]
    c = compile_model(path)
    conv = next(low for low in c.lowered if low.op.kind is OpKind.CONV_2D)
    conv.offsets = (conv.offsets[0], conv.offsets[1] + 2)  # 2 LSB: beyond the tolerance
    inputs = random_inputs(c.graph, 0)
    report = check_onnx(c.graph, path, inputs, _run(c, inputs), lowered=c.lowered)
    assert not report.ok
    assert report.mismatches[0].tensor == c.graph.ops[conv.index].outputs[0]


def test_layouts_nchw_for_onnxruntime_nhwc_for_us(models):
    c = compile_model(models["float"])
    g = c.graph
    inputs = random_inputs(g, 1)
    assert g.tensor(g.inputs[0]).shape == (1, 12, 12, 3)
    fed = onnx_inputs(g, inputs)[g.inputs[0]]
    assert fed.shape == (1, 3, 12, 12)
    assert np.array_equal(fed, inputs[g.inputs[0]].transpose(0, 3, 1, 2))


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "arielml", *args], capture_output=True, text=True,
                          timeout=300)


def test_cli_run_check_onnx(models):
    proc = _cli("run", str(models["qdq_per_tensor"]), "--check", "--cores", "2")
    assert proc.returncode == 0, proc.stderr
    assert "matches onnxruntime" in proc.stdout or "bit-exact with onnxruntime" in proc.stdout, proc.stdout
    assert "within 1 LSB" in proc.stdout or "int8 identical" in proc.stdout, proc.stdout
    assert "end to end:" in proc.stdout
    proc = _cli("run", str(models["float"]), "--check", "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"matches onnxruntime: \d+ tensors \(\d+ float32 within relative 1e-05: max ",
                     proc.stdout), proc.stdout
