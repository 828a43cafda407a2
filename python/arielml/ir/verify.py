"""verify(graph): the IR's contract, checked after every frontend and pass (in tests).

Checks names and topological order, constant data against its type, quantization params,
output shapes per op kind, and dtype rules (an int8 op is int8 and quantized end to end).
"""

from __future__ import annotations

import math

from arielml.ir.graph import Graph
from arielml.ir.kinds import OpKind, output_shapes
from arielml.ir.ops import Op
from arielml.ir.shapes import ShapeError
from arielml.ir.types import DType, Tensor


class VerifyError(ValueError):
    """The graph breaks an IR invariant. The message names the op or tensor."""


_WEIGHTED = (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.FULLY_CONNECTED)
# Ops whose data inputs and outputs share one dtype (the first input's).
_SAME_DTYPE_EXEMPT = (OpKind.QUANTIZE, OpKind.DEQUANTIZE, OpKind.SHAPE) + _WEIGHTED


def _check_tensor(t: Tensor) -> None:
    ty = t.type
    if any((not isinstance(d, int)) or d < 0 for d in ty.shape):
        raise VerifyError(f"tensor {t.name!r}: bad shape {list(ty.shape)}")
    if ty.quant is not None:
        problem = ty.quant.problem(ty.shape, ty.dtype)
        if problem:
            raise VerifyError(f"tensor {t.name!r}: {problem}")
    for what, data in (("data", t.data), ("initial value", t.init)):
        if data is not None and (tuple(data.shape) != ty.shape or data.dtype != ty.dtype.numpy):
            raise VerifyError(
                f"tensor {t.name!r}: {what} {data.dtype}{list(data.shape)} "
                f"does not match type {ty}")
    if t.is_const and t.is_state:
        raise VerifyError(f"tensor {t.name!r}: a variable cannot be a constant")


def _check_dtypes(op: Op, ins: list[Tensor], outs: list[Tensor]) -> None:
    where = f"op {op.kind.value} -> {op.outputs[0]!r}"
    x, y = ins[0], outs[0]
    if op.kind is OpKind.SHAPE:
        if y.dtype not in (DType.INT32, DType.INT64):
            raise VerifyError(f"{where}: SHAPE output must be int32")
        return
    if op.kind is OpKind.QUANTIZE:
        if y.quant is None or y.dtype not in (DType.INT8, DType.UINT8, DType.INT16):
            raise VerifyError(f"{where}: QUANTIZE output must be a quantized integer tensor")
        return
    if op.kind is OpKind.DEQUANTIZE:
        if x.quant is None or y.dtype is not DType.FLOAT32:
            raise VerifyError(f"{where}: DEQUANTIZE goes from quantized to float32")
        return
    data_ins = ins if op.kind not in _WEIGHTED else ins[:1]
    for t in data_ins + outs:
        if t.dtype is not x.dtype:
            raise VerifyError(f"{where}: mixes {x.dtype.value} and {t.dtype.value} ({t.name!r})")
    if op.kind in _WEIGHTED:
        _check_weighted(op, ins, outs, where)
    elif x.dtype in (DType.INT8, DType.INT16, DType.UINT8):
        for t in data_ins + outs:
            if t.quant is None and not t.is_const:
                raise VerifyError(f"{where}: {x.dtype.value} tensor {t.name!r} has no quantization")
    # Per-channel scales belong to weights and biases; kernels take one scale per activation.
    for t in ins[:1] + outs:
        if t.quant is not None and t.quant.per_channel and not t.is_const:
            raise VerifyError(f"{where}: activation {t.name!r} has per-channel quantization")


def _check_weighted(op: Op, ins: list[Tensor], outs: list[Tensor], where: str) -> None:
    x, w, y = ins[0], ins[1], outs[0]
    bias = ins[2] if len(ins) > 2 else None
    if x.dtype is DType.FLOAT32:
        if w.dtype is not DType.FLOAT32 or (bias is not None and bias.dtype is not DType.FLOAT32):
            raise VerifyError(f"{where}: float op with {w.dtype.value} weights (hybrid models "
                              "are not supported)")
        return
    if x.dtype is not DType.INT8:
        raise VerifyError(f"{where}: unsupported activation dtype {x.dtype.value}")
    if w.dtype is not DType.INT8 or w.quant is None or x.quant is None or y.quant is None:
        raise VerifyError(f"{where}: int8 op needs quantized int8 input, weights and output")
    if bias is not None and bias.dtype not in (DType.INT32, DType.INT64):
        raise VerifyError(f"{where}: int8 op needs an int32 bias, got {bias.dtype.value}")
    if w.quant.per_channel:
        ch_axis = 3 if op.kind is OpKind.DEPTHWISE_CONV_2D else 0
        if w.quant.axis != ch_axis:
            raise VerifyError(f"{where}: per-channel weights quantized on axis "
                              f"{w.quant.axis}, expected {ch_axis}")


def _check_state(g: Graph, op: Op, where: str, assigned: set[str]) -> None:
    """Variables are touched only by READ_VARIABLE (its input) and ASSIGN_VARIABLE (its
    output), and assigned at most once per invocation."""
    for k, name in enumerate(op.inputs):
        if g.tensors[name].is_state and (op.kind, k) != (OpKind.READ_VARIABLE, 0):
            raise VerifyError(f"{where}: reads variable {name!r} (only READ_VARIABLE may)")
    for name in op.outputs:
        if g.tensors[name].is_state:
            if op.kind is not OpKind.ASSIGN_VARIABLE:
                raise VerifyError(f"{where}: writes variable {name!r} (only ASSIGN_VARIABLE may)")
            if name in assigned:
                raise VerifyError(f"{where}: variable {name!r} is assigned twice in one invocation")
            assigned.add(name)
    if op.kind is OpKind.READ_VARIABLE and not g.tensors[op.inputs[0]].is_state:
        raise VerifyError(f"{where}: reads {op.inputs[0]!r}, which is not a variable")
    if op.kind is OpKind.READ_VARIABLE and op.inputs[0] in assigned:
        raise VerifyError(f"{where}: reads variable {op.inputs[0]!r} after its ASSIGN_VARIABLE in the "
                          "same invocation (not supported: every read sees the previous invocation's value)")
    if op.kind is OpKind.ASSIGN_VARIABLE and not g.tensors[op.outputs[0]].is_state:
        raise VerifyError(f"{where}: assigns {op.outputs[0]!r}, which is not a variable")


def _check_op(g: Graph, op: Op, defined: set[str], index: int, assigned: set[str]) -> None:
    where = f"op #{index} {op.kind.value}"
    if not op.outputs:
        raise VerifyError(f"{where}: has no outputs")
    for name in op.inputs:
        if name not in g.tensors:
            raise VerifyError(f"{where}: unknown input tensor {name!r}")
        if name not in defined and not g.tensors[name].is_const:
            raise VerifyError(f"{where}: reads {name!r} before it is produced "
                              "(ops not in topological order)")
    for name in op.outputs:
        if name not in g.tensors:
            raise VerifyError(f"{where}: unknown output tensor {name!r}")
        if g.tensors[name].is_state:
            continue  # defined from the start; assigned once (_check_state)
        if name in defined or g.tensors[name].is_const:
            raise VerifyError(f"{where}: tensor {name!r} is written twice")
        defined.add(name)
    _check_state(g, op, where, assigned)
    ins = [g.tensors[n] for n in op.inputs]
    outs = [g.tensors[n] for n in op.outputs]
    try:
        expected = output_shapes(op, [t.shape for t in ins])
    except ShapeError as e:
        raise VerifyError(f"{where} -> {op.outputs[0]!r}: {e}") from None
    if len(expected) != len(outs):
        raise VerifyError(f"{where}: {len(outs)} outputs, expected {len(expected)}")
    for t, shape in zip(outs, expected):
        if t.shape != tuple(shape):
            raise VerifyError(f"{where}: output {t.name!r} is {list(t.shape)}, "
                              f"inputs give {list(shape)}")
    _check_dtypes(op, ins, outs)


def verify(g: Graph) -> Graph:
    """Raise VerifyError at the first broken invariant; return the graph unchanged."""
    for name, t in g.tensors.items():
        if name != t.name:
            raise VerifyError(f"tensor registered as {name!r} is named {t.name!r}")
        _check_tensor(t)
    if not g.outputs:
        raise VerifyError("graph has no outputs")
    defined: set[str] = set()
    for name in g.inputs:
        if name not in g.tensors or g.tensors[name].is_const:
            raise VerifyError(f"graph input {name!r} is missing or constant")
        defined.add(name)
    # A variable holds a value before any op runs: the previous invocation's (or its init).
    defined.update(n for n, t in g.tensors.items() if t.is_state)
    assigned: set[str] = set()
    for i, op in enumerate(g.ops):
        _check_op(g, op, defined, i, assigned)
    for name in g.outputs:
        if name not in defined and not (name in g.tensors and g.tensors[name].is_const):
            raise VerifyError(f"graph output {name!r} is never produced")
    for t in g.activations():
        if math.prod(t.shape) == 0:
            raise VerifyError(f"tensor {t.name!r} is empty {list(t.shape)}")
    return g
