"""ONNX frontend: float32 and QDQ-int8 models (opset >= 13) -> IR Graph in NHWC layout.

The converters live in onnx_ops.REGISTRY (op_type -> converter); the import state,
layout handling and QDQ folding in onnx_builder.Builder; nodes computing constants (the
shape arithmetic exporters write) are evaluated at import by onnx_fold.
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference

from arielml.errors import UsageError
from arielml.frontends.common import UnsupportedOps
from arielml.frontends.onnx_builder import NCHW_TO_NHWC, Builder
from arielml.frontends.onnx_fold import fold_constants
from arielml.frontends.onnx_ops import REGISTRY
from arielml.ir import DType, Graph, OpKind, Quant, TensorType, VerifyError, verify

MIN_OPSET = 13
_QDQ = ("QuantizeLinear", "DequantizeLinear")


def _parse(data: bytes, path: str) -> onnx.ModelProto:
    try:
        model = onnx.load_model_from_string(data)
    except Exception as e:  # protobuf raises DecodeError, RuntimeWarning, ValueError...
        raise UsageError(f"{path}: not a valid ONNX model ({type(e).__name__})") from None
    opsets = {o.domain: o.version for o in model.opset_import}
    version = opsets.get("", opsets.get("ai.onnx", 0))
    if version < MIN_OPSET:
        raise UsageError(f"{path}: ONNX opset {version} is not supported (need >= {MIN_OPSET})")
    return model


def _static_batch(model: onnx.ModelProto) -> None:
    """Pin a symbolic batch dim to 1 so shape inference yields static shapes."""
    inits = {t.name for t in model.graph.initializer}
    for inp in model.graph.input:
        if inp.name in inits:
            continue
        dims = inp.type.tensor_type.shape.dim
        if dims and not dims[0].HasField("dim_value"):
            dims[0].dim_value = 1


def _shapes(model: onnx.ModelProto, path: str) -> dict:
    try:
        inferred = shape_inference.infer_shapes(model, strict_mode=True)
    except Exception as e:  # onnx raises InferenceError, ValidationError, RuntimeError...
        msg = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise UsageError(f"{path}: ONNX shape inference failed: {msg}") from None
    g = inferred.graph
    result = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        tt = vi.type.tensor_type
        if not tt.HasField("shape"):
            continue
        if all(d.HasField("dim_value") for d in tt.shape.dim):
            result[vi.name] = (tuple(int(d.dim_value) for d in tt.shape.dim), tt.elem_type)
    return result


def _initializers(model: onnx.ModelProto, path: str) -> dict[str, np.ndarray]:
    result = {}
    try:
        for t in model.graph.initializer:
            result[t.name] = numpy_helper.to_array(t)
        for node in model.graph.node:  # Constant nodes are initializers in disguise
            if node.op_type == "Constant" and node.attribute:
                result[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    except Exception as e:
        raise UsageError(f"{path}: cannot read ONNX constants ({type(e).__name__})") from None
    return result


def _check_supported(model: onnx.ModelProto, path: str) -> None:
    counts = collections.Counter(
        n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}"
        for n in model.graph.node
        if n.domain not in ("", "ai.onnx") or
        (n.op_type not in REGISTRY and n.op_type not in _QDQ + ("Constant",)))
    if counts:
        raise UnsupportedOps(path, counts)


def _dequantize_node(b: Builder, node) -> None:
    x = node.input[0]
    scale = b.init.get(node.input[1])
    zp = b.init.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    if scale is None:
        raise b.fail(node, "scale must be a constant")
    axis = int(next((a.i for a in node.attribute if a.name == "axis"), 1))
    zps = np.zeros(scale.size, np.int64) if zp is None else zp.reshape(-1).astype(np.int64)
    per_channel = scale.size > 1
    quant = Quant(tuple(float(s) for s in scale.reshape(-1)), tuple(int(z) for z in zps),
                  axis if per_channel else None)
    if x in b.init:
        b.dq_const[node.output[0]] = (b.init[x], quant)
    elif x in b.ir_name and b.tensors[b.ir_name[x]].type.quant is not None:
        b.dq_act[node.output[0]] = b.ir_name[x]
    else:
        raise b.fail(node, f"input {x!r} is not a quantized tensor")


def _quantize_node(b: Builder, node) -> None:
    if node.output[0] in b.done_q:  # written directly by the folded producer
        return
    scale = b.init.get(node.input[1])
    zp = b.init.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    if scale is None or scale.size != 1 or zp is None or zp.dtype != np.int8:
        raise b.fail(node, "only per-tensor int8 QuantizeLinear is supported")
    x = b.act(node.input[0], False)
    quant = Quant.per_tensor(float(scale.reshape(-1)[0]), int(zp.reshape(-1)[0]))
    y = b.add(node.output[0], TensorType(b.tensors[x].shape, DType.INT8, quant))
    b.ir_name[node.output[0]] = y
    b.emit(OpKind.QUANTIZE, [x], [y])


def _graph_inputs(b: Builder, model: onnx.ModelProto) -> list[str]:
    names = []
    for inp in model.graph.input:
        if inp.name in b.init:
            continue
        shape, elem = b.shapes.get(inp.name, (None, None))
        if shape is None:
            raise UsageError(f"{b.path}: input {inp.name!r} has a dynamic shape")
        if elem != onnx.TensorProto.FLOAT:
            raise UsageError(f"{b.path}: input {inp.name!r} must be float32")
        if len(shape) == 4:
            shape = tuple(shape[p] for p in NCHW_TO_NHWC)
        b.ir_name[inp.name] = b.add(inp.name, TensorType(tuple(shape), DType.FLOAT32))
        names.append(inp.name)
    return names


def _convert_node(b: Builder, node) -> None:
    try:
        if node.op_type == "DequantizeLinear":
            _dequantize_node(b, node)
        elif node.op_type == "QuantizeLinear":
            _quantize_node(b, node)
        else:
            attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
            REGISTRY[node.op_type](b, node, attrs)
    except (KeyError, IndexError, ValueError, TypeError) as e:
        # A malformed node (missing input, wrong rank): name it rather than crash.
        raise b.fail(node, f"cannot convert ({type(e).__name__}: {e})") from None


def convert(model: onnx.ModelProto, path: str) -> Graph:
    _static_batch(model)
    shapes = _shapes(model, path)
    consts = _initializers(model, path)
    opsets = {o.domain: o.version for o in model.opset_import}
    opset = opsets.get("", opsets.get("ai.onnx", MIN_OPSET))
    # Fold until nothing changes: a folded shape lets inference give the next node a
    # static shape (Reshape by a computed shape), which may then fold in its turn.
    while (folded := fold_constants(model, shapes, consts, opset, path)) is not model:
        model, shapes = folded, _shapes(folded, path)
    _check_supported(model, path)
    b = Builder(path, consts, shapes, {o.name for o in model.graph.output})
    for node in model.graph.node:
        for name in node.input:
            b.consumers.setdefault(name, []).append(node)
    inputs = _graph_inputs(b, model)
    for node in model.graph.node:
        if node.op_type != "Constant":
            _convert_node(b, node)
    outputs = [b.act(o.name, False) for o in model.graph.output]
    graph = Graph(b.tensors, b.ops, inputs, outputs, Path(path).stem, path)
    try:
        return verify(graph.replace())
    except VerifyError as e:
        raise UsageError(f"{path}: invalid model: {e}") from None


def load_onnx(path: str | Path, data: bytes | None = None) -> Graph:
    path = str(path)
    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise UsageError(f"{path}: cannot read: {e.strerror or e}") from None
    return convert(_parse(data, path), path)
