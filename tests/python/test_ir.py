"""IR: verify() catches broken graphs, padding follows TFLite, passes keep graphs valid."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from arielml.ir import (
    ClampAttrs, Conv2DAttrs, DType, Graph, Op, OpKind, Padding, Quant, ReshapeAttrs, Tensor,
    TensorType, VerifyError, format_graph, same_padding, verify,
)
from arielml.ir import quant
from arielml.passes import fold_reshapes, fuse_activations, optimize

Q = Quant.per_tensor(0.05, -3)


def _conv_graph(out_shape=(1, 4, 4, 2), pad=Padding(1, 1, 1, 1)) -> Graph:
    w = np.ones((2, 3, 3, 1), np.int8)
    wq = Quant((0.01, 0.02), (0, 0), 0)
    tensors = {
        "x": Tensor("x", TensorType((1, 4, 4, 1), DType.INT8, Q)),
        "w": Tensor("w", TensorType((2, 3, 3, 1), DType.INT8, wq), w),
        "b": Tensor("b", TensorType((2,), DType.INT32), np.zeros(2, np.int32)),
        "y": Tensor("y", TensorType(out_shape, DType.INT8, Q)),
        "z": Tensor("z", TensorType(out_shape, DType.INT8, Q)),
    }
    ops = [Op(OpKind.CONV_2D, ("x", "w", "b"), ("y",), Conv2DAttrs(padding=pad)),
           Op(OpKind.RELU, ("y",), ("z",), ClampAttrs((0.0, math.inf)))]
    return Graph(tensors, ops, ["x"], ["z"], "conv")


def test_valid_graph_verifies_and_prints():
    g = verify(_conv_graph())
    text = format_graph(g)
    assert "CONV_2D(%x, %w, %b)" in text
    assert "padding=[top=1 bottom=1 left=1 right=1]" in text


def test_verify_rejects_wrong_output_shape():
    msg = r"output 'y' is \[1, 4, 4, 3\], inputs give \[1, 4, 4, 2\]"
    with pytest.raises(VerifyError, match=msg):
        verify(_conv_graph(out_shape=(1, 4, 4, 3)))


def test_verify_rejects_ops_out_of_order():
    g = _conv_graph()
    g.ops.reverse()
    with pytest.raises(VerifyError, match="topological"):
        verify(g)


def test_verify_rejects_bad_per_channel_quant():
    g = _conv_graph()
    w = g.tensors["w"]
    bad = TensorType(w.shape, w.dtype, Quant((0.01, 0.02, 0.03), (0, 0, 0), 0))
    g.tensors["w"] = Tensor("w", bad, w.data)
    with pytest.raises(VerifyError, match="3 scales for 2 channels"):
        verify(g)


def test_verify_rejects_int8_without_quant_and_mixed_dtypes():
    g = _conv_graph()
    g.tensors["z"] = Tensor("z", TensorType((1, 4, 4, 2), DType.INT8))
    with pytest.raises(VerifyError, match="no quantization"):
        verify(g)
    g.tensors["z"] = Tensor("z", TensorType((1, 4, 4, 2), DType.FLOAT32))
    with pytest.raises(VerifyError, match="mixes int8 and float32"):
        verify(g)


def test_verify_rejects_constant_data_mismatch_and_double_write():
    g = _conv_graph()
    g.tensors["b"] = Tensor("b", g.tensors["b"].type, np.zeros(3, np.int32))
    with pytest.raises(VerifyError, match="does not match type"):
        verify(g)
    g = _conv_graph()
    g.ops.append(dataclasses.replace(g.ops[1], inputs=("y",), outputs=("z",)))
    with pytest.raises(VerifyError, match="written twice"):
        verify(g)


@pytest.mark.parametrize("size,filt,stride,dil", [
    (49, 10, 2, 1), (10, 4, 2, 1), (96, 3, 2, 1), (8, 3, 1, 2), (7, 1, 3, 1), (5, 5, 1, 1)])
def test_same_padding_matches_tflite_rule(size, filt, stride, dil):
    pad = same_padding((size, size), (filt, filt), (stride, stride), (dil, dil))
    out = (size + stride - 1) // stride  # TFLite's SAME output size
    eff = (filt - 1) * dil + 1
    total = max((out - 1) * stride + eff - size, 0)
    assert (pad.top, pad.bottom) == (total // 2, total - total // 2)
    # The explicit pads reproduce the SAME output size.
    assert (size + pad.top + pad.bottom - eff) // stride + 1 == out


def test_fuse_relu_into_conv_and_requant_bounds():
    g = optimize(_conv_graph())
    assert [op.kind for op in g.ops] == [OpKind.CONV_2D]
    op = g.ops[0]
    assert op.outputs == ("z",) and op.attrs.clamp == (0.0, math.inf)
    # RELU lower bound = zero point (quantize(0.0)); per-channel multipliers from double math.
    assert (op.requant.act_min, op.requant.act_max) == (-3, 127)
    for c, fs in enumerate((0.01, 0.02)):
        real = float(np.float32(0.05)) * float(np.float32(fs)) / float(np.float32(0.05))
        m, s = op.requant.multiplier[c], op.requant.shift[c]
        assert 2**30 <= m < 2**31
        assert abs(m * 2.0 ** (s - 31) - real) < real * 2**-30
        assert (m, s) == quant.quantize_multiplier(real)


def test_relu_with_other_quant_is_not_fused():
    g = _conv_graph()
    z = g.tensors["z"]
    g.tensors["z"] = Tensor("z", TensorType(z.shape, z.dtype, Quant.per_tensor(0.1, -128)))
    assert [op.kind for op in fuse_activations(verify(g)).ops] == [OpKind.CONV_2D, OpKind.RELU]


def test_quantize_multiplier_edge_cases():
    assert quant.quantize_multiplier(0.5) == (2**30, 0)
    assert quant.quantize_multiplier(1.0) == (2**30, 1)
    # q*2^31 rounds up to 2^31: halve and bump the shift.
    assert quant.quantize_multiplier(1.0 - 2**-33) == (2**30, 1)
    assert quant.quantize_multiplier(2.0**-40) == (0, 0)


def test_reshape_chain_collapses():
    t = lambda n, s: Tensor(n, TensorType(s, DType.FLOAT32))  # noqa: E731
    g = Graph({"a": t("a", (1, 2, 3)), "b": t("b", (6,)), "c": t("c", (3, 2)),
               "d": t("d", (3, 2))},
              [Op(OpKind.RESHAPE, ("a",), ("b",), ReshapeAttrs((6,))),
               Op(OpKind.SQUEEZE, ("b",), ("c",), ReshapeAttrs((3, 2))),
               Op(OpKind.RELU, ("c",), ("d",), ClampAttrs((0.0, math.inf)))], ["a"], ["d"])
    h = verify(fold_reshapes(verify(g)))
    assert [(op.kind, op.inputs) for op in h.ops] == [(OpKind.RESHAPE, ("a",)),
                                                      (OpKind.RELU, ("c",))]


def test_int8_softmax_needs_tflm_output_scale():
    from arielml.errors import UsageError
    from arielml.ir import SoftmaxAttrs
    from arielml.passes import compute_requant

    def graph(out_quant):
        ts = {"x": Tensor("x", TensorType((1, 4), DType.INT8, Q)),
              "y": Tensor("y", TensorType((1, 4), DType.INT8, out_quant))}
        return Graph(ts, [Op(OpKind.SOFTMAX, ("x",), ("y",), SoftmaxAttrs(1.0))], ["x"], ["y"],
                     source="s.tflite")

    ok = compute_requant(verify(graph(Quant.per_tensor(1 / 256, -128)))).ops[0].requant
    # beta * 0.05 * 2^26 = 3355443.2 -> frexp gives shift 22; diff_min from TFLM's radius.
    assert ok.input_left_shift == 22 and ok.input_multiplier == quant.quantize_multiplier(
        float(np.float32(0.05)) * 2**26)[0]
    with pytest.raises(UsageError, match=r"s.tflite: op #0 SOFTMAX: .*scale 1/256"):
        compute_requant(verify(graph(Quant.per_tensor(1 / 255, -128))))
