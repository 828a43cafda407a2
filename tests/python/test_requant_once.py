"""Requantization is computed once, by passes.requant: what the IR holds (and ir.printer
shows) is what lowering hands to the kernels, for ADD, SUB and MUL alike. SUB's formula is
TFLM's own (float32 divisions), so where it differs from ADD's the stored one is SUB's."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from arielml.ir import AddRequant, BinaryAttrs, DType, Graph, MulRequant, Op, OpKind, Quant, Tensor, TensorType
from arielml.ir import quant
from arielml.lower import lower_graph
from arielml.passes.requant import compute_requant


def _graph(kind: OpKind, sa: float, sb: float, sy: float) -> Graph:
    def t(name, scale, zp):
        return Tensor(name, TensorType((1, 2, 2, 3), DType.INT8, Quant((scale,), (zp,))))

    ts = {"a": t("a", sa, 3), "b": t("b", sb, -7), "y": t("y", sy, 1)}
    return Graph(ts, [Op(kind, ("a", "b"), ("y",), BinaryAttrs((0.0, 6.0)))], ["a", "b"], ["y"], "bin")


def _scales_where_sub_and_add_differ():
    rng = np.random.default_rng(0)
    for _ in range(20000):
        s = tuple(float(v) for v in rng.uniform(0.001, 0.5, 3))
        if quant.add_params(*s) != quant.sub_params(*s):
            return s
    pytest.fail("no scales found where ADD's and SUB's formulas differ")


@pytest.mark.parametrize("kind", [OpKind.ADD, OpKind.SUB, OpKind.MUL])
def test_lowering_uses_the_requant_the_ir_holds(kind):
    for scales in [(0.02, 0.03, 0.05), _scales_where_sub_and_add_differ()]:
        g = compute_requant(_graph(kind, *scales))
        rq = g.ops[0].requant
        low = lower_graph(g)[0]
        got = {**low.params, "act_min": low.act[0], "act_max": low.act[1]}
        if kind is OpKind.MUL:
            assert isinstance(rq, MulRequant)
            want = {"output_multiplier": rq.multiplier, "output_shift": rq.shift,
                    "act_min": rq.act_min, "act_max": rq.act_max}
        else:
            assert isinstance(rq, AddRequant)
            want = dataclasses.asdict(rq)
        assert {k: got[k] for k in want} == want
        assert (got["input1_offset"], got["input2_offset"], got["output_offset"]) == (-3, 7, 1)


def test_sub_stores_tflm_sub_formula():
    s = _scales_where_sub_and_add_differ()
    rq = compute_requant(_graph(OpKind.SUB, *s)).ops[0].requant
    fields = {k: getattr(rq, k) for k in quant.sub_params(*s)}
    assert fields == quant.sub_params(*s) != quant.add_params(*s)
