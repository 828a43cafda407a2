"""What PyTorch's exporter writes: shape arithmetic folded at import (Shape, Gather,
Unsqueeze, Concat, Cast...), Split/Slice/Gather as SPLIT/STRIDED_SLICE, and float
BatchNormalization, each checked on the host against onnxruntime; hostile constant nodes
are refused without allocating."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from arielml.errors import UsageError
from arielml.ir import OpKind
from arielml.oracle.check import check_onnx
from arielml.oracle.host import execution_order, run_tasks
from arielml.oracle.reference import OnnxReference
from arielml.oracle.tensors_io import random_inputs
from arielml.pipeline import compile_model, load


def _model(path, nodes, inputs, outputs, inits=(), opset=17):
    g = helper.make_graph(nodes, "m", inputs, outputs, [numpy_helper.from_array(v, k) for k, v in inits])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.save(m, path)
    return path


def _f(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _check(path, cores=(1, 2)):
    for n in cores:
        c = compile_model(path, cores=n)
        ref = OnnxReference(path, tuple(c.graph.tensors))
        for seed in range(3):
            x = random_inputs(c.graph, seed)
            env = run_tasks(c.graph, x, c.tasks, execution_order(c.schedule), c.lowered)
            report = check_onnx(c.graph, path, x, env, ref, lowered=c.lowered)
            assert report.ok, f"{n} cores, seed {seed}: {report.summary()}"
    return load(path)


def test_pytorch_flatten_shape_chain_folds_away(tmp_path):
    """x.view(x.size(0), -1) as torch.onnx exports it without constant folding."""
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Shape", ["r"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
        helper.make_node("Cast", ["shape"], ["shape64"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["r", "shape64"], ["flat"]),
        helper.make_node("Gemm", ["flat", "w"], ["y"], transB=1),
    ]
    rng = np.random.default_rng(0)
    inits = [("zero", np.array(0, np.int64)), ("axes0", np.array([0], np.int64)),
             ("minus1", np.array([-1], np.int64)), ("w", rng.standard_normal((5, 18)).astype(np.float32))]
    path = _model(tmp_path / "flat.onnx", nodes, [_f("x", [1, 2, 3, 3])], [_f("y", [1, 5])], inits)
    g = _check(path)
    kinds = {op.kind for op in g.ops}
    assert OpKind.SHAPE not in kinds and OpKind.STRIDED_SLICE not in kinds and OpKind.CONCATENATION not in kinds


def test_split_slice_gather_run_on_split_and_strided_slice(tmp_path):
    nodes = [
        helper.make_node("Split", ["x", "sizes"], ["a", "b"], axis=1),
        helper.make_node("Slice", ["b", "st", "en", "ax", "sp"], ["bs"]),  # b[:, :, 1:, ::2]... below
        helper.make_node("Relu", ["a"], ["ar"]),
        helper.make_node("Gather", ["v", "two"], ["g"], axis=1),
        helper.make_node("Slice", ["v", "neg_st", "neg_en", "ax2", "neg_sp"], ["flip"]),
    ]
    inits = [("sizes", np.array([1, 3], np.int64)),
             ("st", np.array([1, 0], np.int64)), ("en", np.array([4, 100], np.int64)),
             ("ax", np.array([2, -1], np.int64)), ("sp", np.array([1, 2], np.int64)),
             ("two", np.array(2, np.int64)),
             ("neg_st", np.array([-1], np.int64)), ("neg_en", np.array([-100], np.int64)),
             ("ax2", np.array([2], np.int64)), ("neg_sp", np.array([-2], np.int64))]
    path = _model(tmp_path / "cut.onnx", nodes, [_f("x", [1, 4, 5, 6]), _f("v", [1, 6, 7])],
                  [_f("ar", [1, 1, 5, 6]), _f("bs", [1, 3, 3, 3]), _f("g", [1, 7]), _f("flip", [1, 6, 4])], inits)
    g = _check(path)
    kinds = [op.kind for op in g.ops]
    assert OpKind.SPLIT in kinds and kinds.count(OpKind.STRIDED_SLICE) == 3


def test_batch_normalization_float(tmp_path):
    rng = np.random.default_rng(1)
    c = 4
    inits = [("s", rng.uniform(0.5, 2, c).astype(np.float32)), ("b", rng.standard_normal(c).astype(np.float32)),
             ("m", rng.standard_normal(c).astype(np.float32)), ("v", rng.uniform(0.1, 3, c).astype(np.float32))]
    nodes = [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3),
             helper.make_node("BatchNormalization", ["z", "s", "b", "m", "v"], ["w"])]
    path = _model(tmp_path / "bn.onnx", nodes, [_f("x", [1, c, 3, 5]), _f("z", [2, c])],
                  [_f("y", [1, c, 3, 5]), _f("w", [2, c])], inits)
    g = _check(path)
    assert [op.kind for op in g.ops].count(OpKind.MUL) == 2


@pytest.mark.parametrize("shape", [[1 << 40], [1 << 20, 1 << 20]])
def test_hostile_constant_of_shape_is_refused_without_allocating(tmp_path, shape):
    nodes = [helper.make_node("ConstantOfShape", ["s"], ["big"]),
             helper.make_node("Add", ["x", "big"], ["y"])]
    path = _model(tmp_path / "big.onnx", nodes, [_f("x", [1])], [_f("y", None)],
                  [("s", np.array(shape, np.int64))])
    proc = subprocess.run([sys.executable, "-m", "arielml", "inspect", str(path)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr


def test_folding_that_fails_names_the_node(tmp_path):
    nodes = [helper.make_node("Reshape", ["c", "bad"], ["cr"], name="oops"),
             helper.make_node("Add", ["x", "cr"], ["y"])]
    path = _model(tmp_path / "bad.onnx", nodes, [_f("x", [6])], [_f("y", [6])],
                  [("c", np.ones(6, np.float32)), ("bad", np.array([4], np.int64))])
    with pytest.raises(UsageError, match="oops|shape inference"):
        load(path)


def test_float_math_ops_match_onnxruntime(tmp_path):
    """Div, Abs, Neg, Sqrt, Exp, Log, Sin, Cos, as a layer norm or a softplus writes them. The
    activation named "a" added to a constant once collided with the binary lowering's role
    names for constant operands ("a", "b")."""
    eps = np.full([1, 6, 1, 1], 0.01, np.float32)
    nodes = [
        helper.make_node("Abs", ["x"], ["a"]),
        helper.make_node("Add", ["a", "eps"], ["p"]),
        helper.make_node("Sqrt", ["p"], ["s"]),
        helper.make_node("Div", ["x", "s"], ["d"]),
        helper.make_node("Log", ["p"], ["l"]),
        helper.make_node("Exp", ["d"], ["e"]),
        helper.make_node("Neg", ["e"], ["n"]),
        helper.make_node("Sin", ["n"], ["si"]),
        helper.make_node("Cos", ["l"], ["co"]),
        helper.make_node("Add", ["si", "co"], ["y"]),
    ]
    path = _model(tmp_path / "math.onnx", nodes, [_f("x", [1, 6, 5, 4])], [_f("y", [1, 6, 5, 4])],
                  [("eps", eps)])
    g = _check(path)
    assert {OpKind.DIV, OpKind.SQRT, OpKind.LOG, OpKind.EXP, OpKind.NEG, OpKind.SIN, OpKind.COS,
            OpKind.ABS} <= {op.kind for op in g.ops}


def test_reductions_match_onnxruntime(tmp_path):
    """ReduceSum (axes as an input), ReduceMax and ReduceMin (axes as attributes, opset 17)."""
    nodes = [
        helper.make_node("ReduceSum", ["x", "axes"], ["s"], keepdims=1),
        helper.make_node("ReduceMax", ["x"], ["m"], axes=[2, 3], keepdims=1),
        helper.make_node("ReduceMin", ["x"], ["n"], axes=[2, 3], keepdims=1),
        helper.make_node("Add", ["m", "n"], ["mn"]),
        helper.make_node("Add", ["mn", "s"], ["y"]),
    ]
    path = _model(tmp_path / "reduce.onnx", nodes, [_f("x", [1, 6, 5, 4])], [_f("y", [1, 6, 1, 1])],
                  [("axes", np.array([2, 3], np.int64))])
    g = _check(path)
    assert {OpKind.SUM, OpKind.REDUCE_MAX, OpKind.REDUCE_MIN} <= {op.kind for op in g.ops}
