"""ONNX frontend: float and QDQ int8 models land on the same IR as their TFLite twins."""

from __future__ import annotations

import math

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from _models import onnx_float_model, quantize_qdq, tflite_twin_of_onnx_model
from arielml.errors import UsageError
from arielml.frontends import load_model
from arielml.frontends.common import UnsupportedOps
from arielml.frontends.tflite import load_tflite
from arielml.ir import DType, OpKind
from arielml.passes import optimize


@pytest.fixture(scope="module")
def onnx_models(tmp_path_factory):
    d = tmp_path_factory.mktemp("onnx")
    onnx.save(onnx_float_model(), d / "float.onnx")
    quantize_qdq(d / "float.onnx", d / "qdq.onnx")
    return d / "float.onnx", d / "qdq.onnx"


def _signature(g):
    """Op kinds with the shapes of every operand: layouts must agree, not just kinds."""
    return [(op.kind, [g.tensors[n].shape for n in op.inputs + op.outputs]) for op in g.ops]


def test_qdq_model_matches_tflite_twin(onnx_models):
    _, qdq = onnx_models
    raw = load_model(qdq)
    # ORT picks its own softmax output scale; TFLM's int8 softmax writes 1/256, so the
    # importer requantizes after it, and the passes fold that into the final DEQUANTIZE.
    assert [op.kind for op in raw.ops][-3:] == [OpKind.SOFTMAX, OpKind.QUANTIZE,
                                                OpKind.DEQUANTIZE]
    g = optimize(raw)
    t = optimize(load_tflite("twin.tflite", tflite_twin_of_onnx_model()))
    assert [op.kind for op in g.ops] == [op.kind for op in t.ops]
    assert _signature(g) == _signature(t)
    # Folded QDQ: every op between QUANTIZE and DEQUANTIZE is int8 with quant params.
    for op in g.ops[1:-1]:
        out = g.tensors[op.outputs[0]]
        assert out.dtype is DType.INT8 and out.quant is not None
    conv = g.ops[1]
    w, b = g.tensors[conv.inputs[1]], g.tensors[conv.inputs[2]]
    assert w.dtype is DType.INT8 and w.quant.axis == 0 and len(w.quant.scale) == 8
    assert b.dtype is DType.INT32
    dw = g.ops[2]
    assert g.tensors[dw.inputs[1]].quant.axis == 3  # OIHW axis 0 -> 1HWC axis 3
    assert conv.requant is not None and len(conv.requant.multiplier) == 8


def test_float_model_imports_in_nhwc_with_relu_fused(onnx_models):
    flt, _ = onnx_models
    raw = load_model(flt)
    assert raw.tensors[raw.inputs[0]].shape == (1, 8, 8, 3)
    g = optimize(raw)
    assert [op.kind for op in g.ops] == [
        OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.CONV_2D, OpKind.ADD,
        OpKind.AVERAGE_POOL_2D, OpKind.RESHAPE, OpKind.FULLY_CONNECTED, OpKind.SOFTMAX]
    assert g.ops[0].attrs.clamp == (0.0, math.inf) and g.ops[1].attrs.clamp == (0.0, math.inf)
    # Weights really were transposed OIHW -> OHWI, not just relabelled.
    model = onnx.load(flt)
    w1 = numpy_helper.to_array(next(t for t in model.graph.initializer if t.name == "w1"))
    got = g.tensors[g.ops[0].inputs[1]].data
    np.testing.assert_array_equal(got, w1.transpose(0, 2, 3, 1))


def _single(node, inputs, outputs, inits=(), opset=13):
    graph = helper.make_graph([node], "g", inputs, outputs, list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def _vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def test_flatten_of_nchw_goes_through_a_transpose(tmp_path):
    m = _single(helper.make_node("Flatten", ["x"], ["y"]), [_vi("x", [1, 2, 3, 3])],
                [_vi("y", [1, 18])])
    onnx.save(m, tmp_path / "f.onnx")
    g = load_model(tmp_path / "f.onnx")
    assert [op.kind for op in g.ops] == [OpKind.TRANSPOSE, OpKind.RESHAPE]
    assert g.ops[0].attrs.perm == (0, 3, 1, 2)


def test_old_opset_refused(tmp_path):
    m = _single(helper.make_node("Relu", ["x"], ["y"]), [_vi("x", [1, 4])], [_vi("y", [1, 4])],
                opset=11)
    onnx.save(m, tmp_path / "old.onnx")
    msg = r"old.onnx: ONNX opset 11 is not supported \(need >= 13\)"
    with pytest.raises(UsageError, match=msg):
        load_model(tmp_path / "old.onnx")


def test_unsupported_onnx_ops_listed(tmp_path):
    nodes = [helper.make_node("Tan", ["x"], ["a"]), helper.make_node("Tan", ["a"], ["b"]),
             helper.make_node("Erf", ["b"], ["y"])]
    graph = helper.make_graph(nodes, "g", [_vi("x", [1, 4])], [_vi("y", [1, 4])])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(m, tmp_path / "u.onnx")
    with pytest.raises(UnsupportedOps, match=r"unsupported ops: Erf x1, Tan x2"):
        load_model(tmp_path / "u.onnx")


def test_garbage_onnx_is_a_usage_error(tmp_path):
    p = tmp_path / "bad.onnx"
    p.write_bytes(b"\x08\x07garbage\xff\xff")
    with pytest.raises(UsageError, match="bad.onnx"):
        load_model(p)


def test_per_tensor_qdq_model_imports(tmp_path):
    onnx.save(onnx_float_model(), tmp_path / "f.onnx")
    quantize_qdq(tmp_path / "f.onnx", tmp_path / "q.onnx", per_channel=False)
    g = optimize(load_model(tmp_path / "q.onnx"))
    conv = g.ops[1]
    w = g.tensors[conv.inputs[1]]
    assert conv.kind is OpKind.CONV_2D and w.quant.axis is None and len(w.quant.scale) == 1
    # One scale still gives one (equal) multiplier per output channel, as TFLM does.
    assert len(set(conv.requant.multiplier)) == 1 and len(conv.requant.multiplier) == 8
    assert g.outputs == ["y"] and g.tensors["y"].dtype is DType.FLOAT32
