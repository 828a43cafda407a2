"""TFLite frontend: .tflite flatbuffer -> IR Graph.

One registry (REGISTRY below) maps each builtin opcode to a converter; converters live by
family in tflite_conv.py, tflite_elementwise.py, tflite_math.py and tflite_shape.py, each
with its CONVERTERS table (adding an op to a family touches that family's module only). Anything the registry
does not know is collected first and refused in one message listing every such op.
"""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
from tflite.BuiltinOperator import BuiltinOperator as B

from arielml.errors import UsageError
from arielml.frontends import tflite_conv as conv
from arielml.frontends import tflite_elementwise as elt
from arielml.frontends import tflite_math as mth
from arielml.frontends import tflite_shape as shp
from arielml.frontends import tflite_state as state
from arielml.frontends.common import UnsupportedOps, printable
from arielml.frontends.tflite_ctx import Ctx
from arielml.frontends.tflite_reader import RawModel, RawTensor, read_model
from arielml.ir import DType, Graph, Quant, Tensor, TensorType, VerifyError, verify

# One registry, from the converters each family module declares next to its converters.
REGISTRY = {**conv.CONVERTERS, **elt.CONVERTERS, **mth.CONVERTERS, **shp.CONVERTERS,
            **state.CONVERTERS}

# Control flow (other subgraphs run by ops) is refused with a precise message; CALL_ONCE
# of an init subgraph is not control flow here (tflite_state evaluates it at build time).
_CONTROL_FLOW = {B.WHILE, B.IF, getattr(B, "CALL", -1)}

_DTYPES = {0: DType.FLOAT32, 2: DType.INT32, 3: DType.UINT8, 4: DType.INT64, 6: DType.BOOL,
           7: DType.INT16, 9: DType.INT8}
_OP_NAMES = {v: k for k, v in vars(B).items() if not k.startswith("_")}


def opcode_name(code: int, custom: str | None = None) -> str:
    if custom is not None and code == B.CUSTOM:
        return f"CUSTOM({printable(custom)})"
    return _OP_NAMES.get(code, f"opcode {code}")


def _check_supported(raw: RawModel) -> None:
    counts = collections.Counter(opcode_name(op.code, op.custom) for op in raw.ops
                                 if op.code not in REGISTRY)
    flow = sorted({opcode_name(op.code) for op in raw.ops if op.code in _CONTROL_FLOW})
    if flow or raw.num_subgraphs > 1 + len(set(state.init_subgraphs(raw))):
        raise UsageError(f"{raw.path}: control flow is not supported ({raw.num_subgraphs} "
                         f"subgraphs{', ops ' + ', '.join(flow) if flow else ''})")
    counts.update(state.init_refusals(raw, opcode_name, REGISTRY))
    if counts:
        raise UnsupportedOps(raw.path, counts)


def tensor_type(raw: RawModel, t: RawTensor) -> TensorType:
    dtype = _DTYPES.get(t.type)
    if dtype is None:
        raise UsageError(f"{raw.path}: tensor {t.name!r} has unsupported type code {t.type}")
    if t.sparse:
        raise UsageError(f"{raw.path}: tensor {t.name!r} is sparse (not supported)")
    if t.signature is not None and any(d < 0 for d in t.signature[1:]):
        raise UsageError(f"{raw.path}: tensor {t.name!r} has a dynamic shape "
                         f"{list(t.signature)} (only the batch dim may be -1)")
    quant = None
    if t.quant is not None:
        q = t.quant
        if len(q.zero_point) != len(q.scale):
            raise UsageError(f"{raw.path}: tensor {t.name!r} has {len(q.scale)} scales "
                             f"but {len(q.zero_point)} zero points")
        axis = q.axis if len(q.scale) > 1 else None
        quant = Quant(tuple(float(s) for s in q.scale), tuple(int(z) for z in q.zero_point), axis)
    return TensorType(tuple(t.shape), dtype, quant)


def _tensors(raw: RawModel, raw_tensors: list[RawTensor] | None = None) -> dict[int, Tensor]:
    """IR tensors of subgraph 0 (or of `raw_tensors`, another subgraph's), by index."""
    result, seen = {}, set()
    for t in raw.tensors if raw_tensors is None else raw_tensors:
        if t.type == state.RESOURCE:
            continue  # a variable's handle: `state.variables` gives its variable tensor
        ttype = tensor_type(raw, t)
        # Converters join fused names with ';': the first part is the readable one.
        name = t.name.split(";")[0] or f"t{t.index}"
        if name in seen:
            name = f"{name}#{t.index}"
        seen.add(name)
        data = None
        blob = raw.buffers.get(t.buffer)
        if blob is not None:
            want = ttype.nbytes
            if len(blob) != want:
                raise UsageError(f"{raw.path}: tensor {name!r} holds {len(blob)} bytes, "
                                 f"its type {ttype} needs {want}")
            data = np.frombuffer(blob, dtype=ttype.dtype.numpy).reshape(ttype.shape).copy()
        result[t.index] = Tensor(name, ttype, data, source_index=t.index)
    return result


def _index_check(raw: RawModel) -> None:
    for sg in raw.subgraphs:
        n = len(sg.tensors)
        for op in sg.ops:
            for i in op.inputs + op.outputs:
                if not -1 <= i < n:
                    raise UsageError(f"{raw.path}: corrupt model: op {op.index} refers to tensor {i}")
    n = len(raw.tensors)
    for i in raw.inputs + raw.outputs:
        if not 0 <= i < n:
            raise UsageError(f"{raw.path}: corrupt model: graph refers to tensor {i}")


def _check_hybrid(raw: RawModel, tensors: dict[int, Tensor]) -> None:
    """Dynamic-range ("hybrid") models: int8 weights with float activations. Their kernels
    quantize activations at run time, which has no bit-exact int8 or float equivalent."""
    counts = collections.Counter()
    for op in raw.ops:
        ins = [tensors[i] for i in op.inputs[:2] if i >= 0]
        if (len(ins) == 2 and ins[0].dtype is DType.FLOAT32 and ins[1].is_const
                and ins[1].dtype in (DType.INT8, DType.UINT8)):
            counts[opcode_name(op.code)] += 1
    if counts:
        listing = ", ".join(f"{name} x{n}" for name, n in sorted(counts.items()))
        raise UsageError(f"{raw.path}: hybrid (dynamic-range) quantization is not supported: "
                         f"{listing} take int8 weights with float32 activations; export the "
                         "model fully int8 or fully float32")


def _ops(raw: RawModel, rops, tensors: dict[int, Tensor], by_name: dict[str, Tensor]) -> list:
    ops = []
    for rop in rops:
        ctx = Ctx(raw, rop, tensors, by_name, opcode_name(rop.code))
        ops.extend(REGISTRY[rop.code](ctx))
    return ops


def _subgraph(raw: RawModel, k: int, skip: tuple[int, ...]) -> tuple[dict[int, Tensor], list]:
    """Subgraph k's IR tensors by index and its ops converted, those in `skip` left out
    (tflite_state builds a CALL_ONCE init subgraph with it)."""
    tensors = _tensors(raw, raw.subgraphs[k].tensors)
    by_name = {t.name: t for t in tensors.values()}
    return tensors, _ops(raw, [op for op in raw.subgraphs[k].ops if op.code not in skip], tensors, by_name)


def convert(raw: RawModel) -> Graph:
    _check_supported(raw)
    _index_check(raw)
    tensors = _tensors(raw)
    variables, init = state.variables(raw, tensors, _subgraph)
    tensors.update(variables)
    _check_hybrid(raw, tensors)
    ctx_tensors = {t.name: t for t in tensors.values()}
    ops = _ops(raw, raw.ops, tensors, ctx_tensors)
    graph = Graph(ctx_tensors, [], [tensors[i].name for i in raw.inputs],
                  [tensors[i].name for i in raw.outputs], Path(raw.path).stem, raw.path,
                  init_graph=init[0], init_assign=init[1])
    graph = graph.replace(ops=ops)
    try:
        return verify(graph)
    except VerifyError as e:
        raise UsageError(f"{raw.path}: invalid model: {e}") from None


def load_tflite(path: str | Path, data: bytes | None = None) -> Graph:
    """Read and convert a .tflite file (or its bytes) to a verified IR graph."""
    path = str(path)
    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise UsageError(f"{path}: cannot read: {e.strerror or e}") from None
    return convert(read_model(data, path))
