"""Resource variables: VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE, and CALL_ONCE of an
initialisation subgraph, as TFLM runs them (micro_resource_variable.cc, call_once.cc).

A variable is identified by (container, shared_name) and becomes one IR tensor with
persistent storage (`Tensor.init`): READ_VARIABLE copies it into a tensor, ASSIGN_VARIABLE
copies a tensor into it. Its type is that of the first tensor assigned to it (TFLM
allocates the buffer at the first ASSIGN_VARIABLE it prepares, subgraph 0 first); before
any assignment TFLM fills it with that tensor's zero point, byte by byte.

CALL_ONCE runs its init subgraph on the first invocation only. That subgraph has no
inputs, so its values are known at build time: running it once is the same as starting
with them. Constants assigned directly (what converters emit for initial states) become
the variables' `init` here; values computed by ops on constants are left as an init graph
on the Graph that pipeline.initialise runs once on the host kernels (bit-exact with TFLM's)
at build time. Ops without a converter, and reads of variables, in it are refused by name.
"""

from __future__ import annotations

import numpy as np
from tflite.BuiltinOperator import BuiltinOperator as B

from arielml.errors import UsageError
from arielml.frontends.tflite_reader import RawModel, RawOp, RawSubgraph, read_options
from arielml.ir import Graph, Op, OpKind, Tensor, TensorType

RESOURCE = 13  # TensorType RESOURCE: a variable's handle, not data


def _key(raw: RawModel, op: RawOp) -> tuple[str, str]:
    o = read_options(op, "VarHandleOptions", ("Container", "SharedName"), raw.path)
    return (o["Container"] or "", o["SharedName"] or "")


def _handles(raw: RawModel, sg: RawSubgraph) -> dict[int, tuple[str, str]]:
    """Resource tensor index -> variable key, for every VAR_HANDLE of subgraph `sg`."""
    out = {}
    for op in sg.ops:
        if op.code == B.VAR_HANDLE:
            if len(op.outputs) != 1 or not 0 <= op.outputs[0] < len(sg.tensors):
                raise UsageError(f"{raw.path}: op {op.index} VAR_HANDLE: needs one output")
            out[op.outputs[0]] = _key(raw, op)
    return out


def _handle(raw: RawModel, op: RawOp, handles: dict, name: str) -> tuple[str, str]:
    if not op.inputs or op.inputs[0] not in handles:
        raise UsageError(f"{raw.path}: op {op.index} {name}: its resource input does not come "
                         "from a VAR_HANDLE of the same subgraph")
    return handles[op.inputs[0]]


def init_subgraphs(raw: RawModel) -> list[int]:
    """The init subgraph index of every CALL_ONCE in subgraph 0."""
    out = []
    for op in raw.ops:
        if op.code == B.CALL_ONCE:
            k = read_options(op, "CallOnceOptions", ("InitSubgraphIndex",), raw.path)["InitSubgraphIndex"]
            if not 0 < k < raw.num_subgraphs:
                raise UsageError(f"{raw.path}: op {op.index} CALL_ONCE: init subgraph {k} does not exist")
            out.append(k)
    return out


def init_refusals(raw: RawModel, opcode_name, registry) -> dict[str, int]:
    """What the init subgraphs hold that cannot be evaluated (ops without a converter,
    reads of variables, nested CALL_ONCE), by op name: listed with the model's
    unsupported ops, all at once."""
    out: dict[str, int] = {}
    for k in sorted(set(init_subgraphs(raw))):
        for op in raw.subgraphs[k].ops:
            if op.code not in registry or op.code in (B.READ_VARIABLE, B.CALL_ONCE):
                name = f"{opcode_name(op.code, op.custom)} in CALL_ONCE init subgraph {k}"
                out[name] = out.get(name, 0) + 1
    return out


def _first_state_use(raw: RawModel) -> int:
    uses = [op.index for op in raw.ops if op.code in (B.READ_VARIABLE, B.ASSIGN_VARIABLE)]
    return min(uses, default=len(raw.ops))


def _init_subgraph(raw: RawModel, k: int, subgraph) -> tuple[dict, Graph]:
    """Init subgraph k as an IR graph without inputs whose outputs are the values it
    assigns, and variable key -> the output name assigned to it."""
    tensors, ops = subgraph(raw, k, (B.VAR_HANDLE, B.ASSIGN_VARIABLE))
    handles = _handles(raw, raw.subgraphs[k])
    assigned = {}
    for op in raw.subgraphs[k].ops:
        if op.code == B.ASSIGN_VARIABLE:
            key = _handle(raw, op, handles, "ASSIGN_VARIABLE")
            if len(op.inputs) != 2 or op.inputs[1] not in tensors:
                raise UsageError(f"{raw.path}: CALL_ONCE init subgraph {k}: op {op.index} "
                                 "ASSIGN_VARIABLE needs a value input")
            assigned[key] = tensors[op.inputs[1]].name
    by_name = {t.name: t for t in tensors.values()}
    g = Graph(by_name, ops, [], list(dict.fromkeys(assigned.values())), f"init{k}", raw.path)
    return assigned, g.replace()


def variables(raw: RawModel, tensors: dict[int, Tensor], subgraph) -> tuple[dict[int, Tensor], tuple]:
    """Resource tensor index of subgraph 0 -> its variable tensor (shared by every handle
    of one variable), and the initialisation still to compute: (graph or None, variable
    name -> its output). Refuses what TFLM would not run and what is not supported.
    `subgraph(raw, k, skip)`: the importer's tensors and ops of subgraph k."""
    handles = _handles(raw, raw.subgraphs[0])
    inits = init_subgraphs(raw)
    extra = sorted(set(range(1, raw.num_subgraphs)) - set(inits))
    if extra:
        raise UsageError(f"{raw.path}: control flow is not supported (subgraph(s) "
                         f"{', '.join(map(str, extra))} are not CALL_ONCE init subgraphs)")
    late = [op.index for op in raw.ops if op.code == B.CALL_ONCE and op.index > _first_state_use(raw)]
    if late:
        raise UsageError(f"{raw.path}: op {late[0]} CALL_ONCE comes after a READ_VARIABLE or "
                         "ASSIGN_VARIABLE (not supported: it must initialise the variables first)")
    types: dict[tuple[str, str], TensorType] = {}
    read: list[tuple[int, tuple[str, str]]] = []
    for op in raw.ops:
        if op.code == B.ASSIGN_VARIABLE:
            key = _handle(raw, op, handles, "ASSIGN_VARIABLE")
            if len(op.inputs) != 2 or op.inputs[1] not in tensors:
                raise UsageError(f"{raw.path}: op {op.index} ASSIGN_VARIABLE: needs a value input")
            ty = tensors[op.inputs[1]].type
            if types.setdefault(key, ty).nbytes != ty.nbytes:
                raise UsageError(f"{raw.path}: op {op.index} ASSIGN_VARIABLE: variable {key[1]!r} is "
                                 f"assigned {ty.nbytes} bytes, it holds {types[key].nbytes}")
        elif op.code == B.READ_VARIABLE:
            read.append((op.index, _handle(raw, op, handles, "READ_VARIABLE")))
    if len(inits) > 1:
        raise UsageError(f"{raw.path}: {len(inits)} CALL_ONCE ops (one is supported)")
    assigned, init_g = _init_subgraph(raw, inits[0], subgraph) if inits else ({}, None)
    for key, value in assigned.items():
        types.setdefault(key, init_g.tensor(value).type)
    by_key: dict[tuple[str, str], Tensor] = {}
    names = {t.name for t in tensors.values()}
    computed = {}
    for key, ty in types.items():
        value = init_g.tensor(assigned[key]) if key in assigned else None
        name = _unique(f"variable:{key[1]}", names)
        if value is not None and value.type.nbytes != ty.nbytes:
            raise UsageError(f"{raw.path}: CALL_ONCE assigns {value.type.nbytes} bytes to variable "
                             f"{key[1]!r}, which holds {ty.nbytes}")
        if value is not None and value.is_const:  # a constant: its bytes, now
            init = np.frombuffer(value.data.tobytes(), ty.dtype.numpy).reshape(ty.shape).copy()
        else:
            init = _default(ty)
            if value is not None:  # computed from constants: by pipeline.initialise
                computed[name] = value.name
        by_key[key] = Tensor(name, ty, init=init)
    for index, key in read:
        if key not in by_key:
            raise UsageError(f"{raw.path}: op {index} READ_VARIABLE reads variable {key[1]!r}, "
                             "which nothing assigns (TFLM has no buffer for it)")
    return ({i: by_key[k] for i, k in handles.items() if k in by_key},
            (init_g.replace(outputs=list(dict.fromkeys(computed.values()))) if computed else None, computed))


def _unique(name: str, names: set[str]) -> str:
    base, n = name, 1
    while name in names:
        n += 1
        name = f"{base}#{n}"
    names.add(name)
    return name


def _default(ty: TensorType) -> np.ndarray:
    # TFLM: memset(buffer, (int8) zero_point, bytes), whatever the element type.
    fill = (ty.quant.zero_point[0] if ty.quant is not None else 0) & 0xFF
    return np.full(ty.nbytes, fill, np.uint8).view(ty.dtype.numpy).reshape(ty.shape).copy()


# ---- converters (subgraph 0); the variable tensors stand in for the resource handles ----

def _read(ctx) -> list[Op]:
    return [Op(OpKind.READ_VARIABLE, (ctx.name(0),), ctx.outputs())]


def _assign(ctx) -> list[Op]:
    return [Op(OpKind.ASSIGN_VARIABLE, (ctx.name(1),), (ctx.name(0),))]


def _nothing(ctx) -> list[Op]:
    return []  # VAR_HANDLE: resolved by `variables`; CALL_ONCE: evaluated at build time


CONVERTERS = {B.READ_VARIABLE: _read, B.ASSIGN_VARIABLE: _assign, B.VAR_HANDLE: _nothing,
              B.CALL_ONCE: _nothing}
