"""Constant folding of an ONNX graph at import: every node whose inputs are all known
constants is evaluated once, here, and its outputs become initializers.

PyTorch's exporter writes shape arithmetic into the graph (`Shape -> Gather -> Unsqueeze ->
Concat -> Reshape` for a flatten, `Constant`s, `Cast`s); with static shapes all of it is
known at build time, and a compiler decides it there instead of shipping kernels for it.
`Shape` of a tensor whose shape inference gave static dims is a constant too.

Nodes are evaluated by onnx's own reference implementation (`onnx.reference`), one node at
a time, so every op folds the way the standard defines it. The model file is untrusted: only
ops whose cost is linear in their inputs and outputs fold (FOLDABLE: shape arithmetic,
casts, elementwise math, gathers and slices, reductions), and only when shape inference gave
every output a static shape of at most MAX_ELEMENTS elements, so a hostile ConstantOfShape,
Range or Expand cannot make the import allocate or compute without bound; anything the
evaluator rejects is one UsageError naming the node.
QuantizeLinear/DequantizeLinear are never folded: the importer reads them as the
quantization of the tensors around them.
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import helper, numpy_helper

from arielml.errors import UsageError

MAX_ELEMENTS = 1 << 20
FOLDABLE = frozenset("""
    Shape Size Gather GatherElements Unsqueeze Squeeze Concat Cast CastLike Slice Reshape Flatten
    Transpose Identity ConstantOfShape Range Expand Tile Split Add Sub Mul Div Mod Neg Abs Sqrt
    Reciprocal Pow Floor Ceil Round Min Max Equal Less LessOrEqual Greater GreaterOrEqual Not And
    Or Xor Where Sign ReduceProd ReduceSum ReduceMin ReduceMax ReduceMean Clip Relu
""".split())


def _evaluate(node, inputs: dict[str, np.ndarray], opset: int) -> list[np.ndarray]:
    from onnx.reference import ReferenceEvaluator

    feeds = [n for n in node.input if n]
    vis = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(inputs[n].dtype), inputs[n].shape)
           for n in feeds]
    outs = [helper.make_tensor_value_info(n, onnx.TensorProto.UNDEFINED, None) for n in node.output]
    g = helper.make_graph([node], "fold", vis, outs)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    return ReferenceEvaluator(m).run(None, {n: inputs[n] for n in feeds})


def fold_constants(model: onnx.ModelProto, shapes: dict, consts: dict[str, np.ndarray],
                   opset: int, path: str) -> onnx.ModelProto:
    """`model` without the nodes whose outputs are constants; those outputs join the
    initializers (and `consts`, updated in place). `shapes`: ONNX name -> (static shape,
    elem type) from shape inference."""
    folded, kept = [], []
    graph_outputs = {o.name for o in model.graph.output}
    for node in model.graph.node:
        if node.domain not in ("", "ai.onnx") or node.op_type not in FOLDABLE:
            kept.append(node)
            continue
        sizes = [math.prod(shapes[o][0]) if o in shapes else None for o in node.output]
        if any(s is None or s > MAX_ELEMENTS for s in sizes) or any(o in graph_outputs for o in node.output):
            kept.append(node)
            continue
        if node.op_type == "Shape" and node.input and node.input[0] in shapes and node.input[0] not in consts:
            values = [_shape_of(node, shapes[node.input[0]][0])]
        elif all(n in consts for n in node.input if n) and any(node.input):
            try:
                values = _evaluate(node, consts, opset)
            except Exception as e:  # the reference raises whatever numpy raises: name the node
                label = node.op_type + (f" {node.name!r}" if node.name else "")
                raise UsageError(f"{path}: node {label}: cannot evaluate its constant inputs "
                                 f"({type(e).__name__})") from None
        else:
            kept.append(node)
            continue
        for name, v in zip(node.output, values):
            consts[name] = np.asarray(v)
        folded.extend(node.output)
    if not folded:
        return model
    out = onnx.ModelProto()
    out.CopyFrom(model)
    del out.graph.node[:]
    out.graph.node.extend(kept)
    out.graph.initializer.extend(numpy_helper.from_array(consts[n], n) for n in folded if n)
    return out


def _shape_of(node, shape: tuple[int, ...]) -> np.ndarray:
    a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
    dims = np.asarray(shape, np.int64)
    start, end = a.get("start", 0), a.get("end", None)
    return dims[start:end]
