"""`arielml inspect`: MACs checked against counts computed here from the raw flatbuffer."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import tflite
from click.testing import CliRunner

from _models import HYBRID_MODEL, INT8_MODELS, model_path
from arielml.api.inspect import inspect_model, peak_activation_bytes
from arielml.cli import cli
from arielml.ir import ClampAttrs, DType, Graph, Op, OpKind, Tensor, TensorType

pytestmark = pytest.mark.skipif(not model_path(INT8_MODELS[0]).exists(),
                                reason="MLPerf Tiny models not present")


def _raw_macs(path) -> int:
    """MACs from the flatbuffer's own tensor shapes, without arielml's importer."""
    m = tflite.Model.GetRootAsModel(path.read_bytes(), 0)
    sg = m.Subgraphs(0)
    total = 0
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        code = m.OperatorCodes(op.OpcodeIndex()).DeprecatedBuiltinCode()
        out = sg.Tensors(op.Outputs(0)).ShapeAsNumpy()
        w = sg.Tensors(op.Inputs(1)).ShapeAsNumpy() if op.InputsLength() > 1 else None
        if code == tflite.BuiltinOperator.CONV_2D:  # out * KH * KW * Cin
            total += int(np.prod(out)) * int(w[1] * w[2] * w[3])
        elif code == tflite.BuiltinOperator.DEPTHWISE_CONV_2D:  # out * KH * KW
            total += int(np.prod(out)) * int(w[1] * w[2])
        elif code == tflite.BuiltinOperator.FULLY_CONNECTED:  # out * K
            total += int(np.prod(out)) * int(w[1])
    return total


@pytest.mark.parametrize("name", INT8_MODELS)
def test_macs_match_independent_count(name):
    report = inspect_model(model_path(name))
    assert report.total_macs == _raw_macs(model_path(name)) > 0
    assert report.total_macs == sum(r.macs for r in report.rows)
    assert report.total_weight_bytes > 0 and report.peak_activation_bytes > 0
    assert not report.unsupported


def test_known_mlperf_mac_totals():
    # Published MLPerf Tiny figures, rounded: ResNet-8 12.5M, VWW 7.5M, DS-CNN 2.7M.
    assert round(inspect_model(model_path("pretrainedResnet_quant.tflite")).total_macs, -5) \
        == 12_500_000
    assert round(inspect_model(model_path("vww_96_int8.tflite")).total_macs, -5) == 7_500_000
    assert round(inspect_model(model_path("kws_ref_model.tflite")).total_macs, -5) == 2_700_000


def test_peak_activation_counts_live_tensors():
    relu = ClampAttrs((0.0, math.inf))
    ts = {n: Tensor(n, TensorType((k,), DType.FLOAT32)) for n, k in
          [("x", 100), ("a", 200), ("b", 50), ("c", 100)]}
    # The final ADD reads x again, so x stays live through every op.
    g = Graph(ts, [Op(OpKind.RELU, ("x",), ("a",), relu),
                   Op(OpKind.RELU, ("a",), ("b",), relu),
                   Op(OpKind.ADD, ("x", "x"), ("c",))], ["x"], ["c", "b"])
    # Bytes: x=400 a=800 b=200 c=400. op0: x+a=1200; op1: x+a+b=1400; op2: x+b+c=1000.
    assert peak_activation_bytes(g) == 1400


def test_cli_table_and_json():
    runner = CliRunner()
    path = str(model_path("kws_ref_model.tflite"))
    res = runner.invoke(cli, ["inspect", path])
    assert res.exit_code == 0, res.output
    assert "DEPTHWISE_CONV_2D" in res.output and "peak activations" in res.output
    res = runner.invoke(cli, ["inspect", path, "--json"])
    data = json.loads(res.output)
    assert data["total_macs"] == _raw_macs(model_path("kws_ref_model.tflite"))
    assert [r["kind"] for r in data["rows"]][:2] == ["CONV_2D", "DEPTHWISE_CONV_2D"]
    assert data["rows"][0]["input_shapes"][0] == [1, 49, 10, 1]
    assert data["inputs"][0]["dtype"] == "int8"


def test_cli_refuses_hybrid_with_exit_2_and_one_line():
    proc = subprocess.run([sys.executable, "-m", "arielml", "inspect",
                           str(model_path(HYBRID_MODEL))], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and HYBRID_MODEL in lines[0]


def test_onnx_macs_from_onnx_shapes(tmp_path):
    import onnx
    from onnx import numpy_helper, shape_inference

    from _models import onnx_float_model
    model = onnx_float_model()
    onnx.save(model, tmp_path / "m.onnx")
    inferred = shape_inference.infer_shapes(model)
    shapes = {vi.name: [d.dim_value for d in vi.type.tensor_type.shape.dim]
              for vi in list(inferred.graph.value_info) + list(inferred.graph.output)}
    weights = {t.name: numpy_helper.to_array(t).shape for t in model.graph.initializer}
    expected = 0
    for node in model.graph.node:
        out = math.prod(shapes[node.output[0]])
        if node.op_type == "Conv":  # OIHW weights: each output sums (I/group)*KH*KW products
            expected += out * math.prod(weights[node.input[1]][1:])
        elif node.op_type == "Gemm":
            expected += out * weights[node.input[1]][1]
    report = inspect_model(tmp_path / "m.onnx")
    assert report.total_macs == expected > 0


def test_unsupported_ops_reported_and_cli_exits_2(tmp_path):
    from _models import TFLiteBuilder
    b = TFLiteBuilder()
    x = b.act([1, 4], "float32")
    y = b.op("FLOOR", [x], [b.act([1, 4], "float32")])
    y = b.op("FLOOR", [y], [b.act([1, 4], "float32")])
    path = tmp_path / "floor.tflite"
    path.write_bytes(b.build([x], [y]))
    report = inspect_model(path)
    assert report.unsupported == {"FLOOR": 2} and report.rows == []
    res = CliRunner().invoke(cli, ["inspect", str(path), "--json"])
    assert json.loads(res.output)["unsupported"] == {"FLOOR": 2}
    assert "unsupported ops: FLOOR x2" in str(res.exception)
