"""TFLite frontend: the MLPerf Tiny models, every supported op, and precise refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from _models import HYBRID_MODEL, INT8_MODELS, TFLiteBuilder, model_path, tflite_all_ops_float
from arielml.errors import UsageError
from arielml.frontends import load_model
from arielml.frontends.common import UnsupportedOps
from arielml.frontends.tflite import load_tflite
from arielml.ir import DType, OpKind, verify
from arielml.passes import optimize

pytestmark = pytest.mark.skipif(not model_path(INT8_MODELS[0]).exists(),
                                reason="MLPerf Tiny models not present")

EXPECTED_KINDS = {
    "ad01_int8.tflite": {"FULLY_CONNECTED": 10},
    "kws_ref_model.tflite": {"CONV_2D": 5, "DEPTHWISE_CONV_2D": 4, "AVERAGE_POOL_2D": 1,
                             "RESHAPE": 1, "FULLY_CONNECTED": 1, "SOFTMAX": 1},
    "pretrainedResnet_quant.tflite": {"CONV_2D": 9, "ADD": 3, "AVERAGE_POOL_2D": 1,
                                      "RESHAPE": 1, "FULLY_CONNECTED": 1, "SOFTMAX": 1},
    "str_ww_ref_model.tflite": {"DEPTHWISE_CONV_2D": 4, "CONV_2D": 4, "RESHAPE": 1,
                                "FULLY_CONNECTED": 1, "SOFTMAX": 1},
    "vww_96_int8.tflite": {"CONV_2D": 14, "DEPTHWISE_CONV_2D": 13, "AVERAGE_POOL_2D": 1,
                           "RESHAPE": 1, "FULLY_CONNECTED": 1, "SOFTMAX": 1},
}


def _counts(g) -> dict[str, int]:
    result: dict[str, int] = {}
    for op in g.ops:
        result[op.kind.value] = result.get(op.kind.value, 0) + 1
    return result


@pytest.mark.parametrize("name", INT8_MODELS)
def test_mlperf_model_imports(name):
    g = load_model(model_path(name))
    assert _counts(g) == EXPECTED_KINDS[name]
    x = g.tensors[g.inputs[0]]
    assert x.dtype is DType.INT8 and x.quant is not None and x.shape[0] == 1
    h = optimize(g)  # verifies after every pass
    weighted = [op for op in h.ops if op.kind in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D,
                                                   OpKind.FULLY_CONNECTED)]
    assert weighted and all(op.requant is not None for op in weighted)
    for op in weighted:
        out = h.tensors[op.outputs[0]]
        assert len(op.requant.multiplier) == out.shape[-1]
        assert all(m == 0 or 2**30 <= m < 2**31 for m in op.requant.multiplier)


def test_hybrid_model_is_refused_precisely():
    path = model_path(HYBRID_MODEL)
    with pytest.raises(UsageError) as e:
        load_model(path)
    msg = str(e.value)
    assert str(path) in msg and "\n" not in msg
    assert "hybrid" in msg and "CONV_2D x5" in msg and e.value.exit_code == 2


def test_kws_conv_padding_is_resolved_like_tflite():
    g = load_model(model_path("kws_ref_model.tflite"))
    first = g.ops[0]
    # 49x10 input, 10x4 filter, stride 2, SAME: totals 9 and 2, odd pixel at the end.
    assert first.attrs.stride == (2, 2)
    p = first.attrs.padding
    assert (p.top, p.bottom, p.left, p.right) == (4, 5, 1, 1)


def test_opcode_only_in_builtin_code_field_is_read():
    """model_editor fills only builtin_code; the tflite package's BuiltinCode() would
    report the deprecated field (0 = ADD) for every op."""
    g = load_tflite("all.tflite", tflite_all_ops_float())
    assert OpKind.ADD not in {op.kind for op in g.ops}
    assert g.ops[0].kind is OpKind.MAX_POOL_2D


def test_every_supported_op_imports_and_folds():
    g = load_tflite("all.tflite", tflite_all_ops_float())
    kinds = {op.kind for op in g.ops}
    assert kinds >= {OpKind.MAX_POOL_2D, OpKind.RELU, OpKind.RELU6, OpKind.SUB, OpKind.MUL,
                     OpKind.CONCATENATION, OpKind.PAD, OpKind.MEAN, OpKind.LOGISTIC,
                     OpKind.TANH, OpKind.LEAKY_RELU, OpKind.HARD_SWISH, OpKind.SQUEEZE,
                     OpKind.EXPAND_DIMS, OpKind.TRANSPOSE, OpKind.SPLIT, OpKind.STRIDED_SLICE,
                     OpKind.PACK, OpKind.SHAPE, OpKind.RESHAPE, OpKind.QUANTIZE,
                     OpKind.DEQUANTIZE}
    concat = next(op for op in g.ops if op.kind is OpKind.CONCATENATION)
    assert concat.attrs.axis == 3  # -1 resolved
    ss = next(op for op in g.ops if op.kind is OpKind.STRIDED_SLICE)
    assert (ss.attrs.begin, ss.attrs.end) == ((0, 1, 0), (1, 3, 1))  # end_mask bit 1
    h = optimize(g)
    after = [op.kind for op in h.ops]
    # SHAPE -> STRIDED_SLICE -> PACK feeding the reshape is constant and disappears;
    # RELU fuses into MAX_POOL; SQUEEZE + EXPAND_DIMS collapse into one RESHAPE.
    assert OpKind.SHAPE not in after and OpKind.RELU not in after
    assert after.count(OpKind.STRIDED_SLICE) == 1 and after.count(OpKind.PACK) == 1
    assert h.ops[0].attrs.clamp == (0.0, math.inf)
    assert OpKind.SQUEEZE not in after and OpKind.EXPAND_DIMS not in after


def _tiny(ops: list[tuple[str, int]]) -> bytes:
    b = TFLiteBuilder()
    x = b.act([1, 4], "float32")
    for code, n in ops:
        for _ in range(n):
            x = b.op(code, [x], [b.act([1, 4], "float32")])
    return b.build([b.sg.operators[0].inputs[0]], [x])


def test_unsupported_ops_listed_once_with_counts(tmp_path):
    path = tmp_path / "u.tflite"
    path.write_bytes(_tiny([("FLOOR", 2), ("RELU", 1), ("CEIL", 1), ("ROUND", 3)]))
    with pytest.raises(UnsupportedOps) as e:
        load_model(path)
    assert str(e.value) == f"{path}: unsupported ops: CEIL x1, FLOOR x2, ROUND x3"
    assert e.value.ops == {"CEIL": 1, "FLOOR": 2, "ROUND": 3}


def test_dynamic_shape_refused(tmp_path):
    b = TFLiteBuilder()
    x = b.act([1, 4], "float32")
    x._fb.shapeSignature = [1, -1]
    y = b.op("RELU", [x], [b.act([1, 4], "float32")])
    with pytest.raises(UsageError, match=r"dynamic shape \[1, -1\]"):
        load_tflite("dyn.tflite", b.build([x], [y]))


def test_batch_only_dynamic_shape_accepted():
    b = TFLiteBuilder()
    x = b.act([1, 4], "float32")
    x._fb.shapeSignature = [-1, 4]
    y = b.op("RELU", [x], [b.act([1, 4], "float32")])
    assert verify(load_tflite("batch.tflite", b.build([x], [y]))).inputs


def test_multi_subgraph_refused():
    b = TFLiteBuilder()
    x = b.act([1, 4], "float32")
    y = b.op("RELU", [x], [b.act([1, 4], "float32")])
    b.model.add_subgraph()
    with pytest.raises(UsageError, match="control flow is not supported \\(2 subgraphs"):
        load_tflite("two.tflite", b.build([x], [y]))


def test_int8_weights_are_per_channel_on_the_right_axis():
    g = load_model(model_path("vww_96_int8.tflite"))
    for op in g.ops:
        if op.kind is OpKind.DEPTHWISE_CONV_2D:
            w = g.tensors[op.inputs[1]]
            assert w.quant.axis == 3 and len(w.quant.scale) == w.shape[3]
            assert w.data.dtype == np.int8 and w.data.shape == w.shape
