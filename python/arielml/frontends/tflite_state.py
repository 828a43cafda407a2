"""Resource variables: VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE, and CALL_ONCE of an
initialisation subgraph, as TFLM runs them (micro_resource_variable.cc, call_once.cc).

A variable is identified by (container, shared_name) and becomes one IR tensor with
persistent storage (`Tensor.init`): READ_VARIABLE copies it into a tensor, ASSIGN_VARIABLE
copies a tensor into it. Its type is that of the first tensor assigned to it (TFLM
allocates the buffer at the first ASSIGN_VARIABLE it prepares, subgraph 0 first); before
any assignment TFLM fills it with that tensor's zero point, byte by byte.

CALL_ONCE runs its init subgraph on the first invocation only. When that subgraph only
assigns constants to variables (what converters emit for initial states), running it is
the same as starting with those values, so it is evaluated here, at build time; anything
else in it is refused with the op named.
"""

from __future__ import annotations

import numpy as np
from tflite.BuiltinOperator import BuiltinOperator as B

from arielml.errors import UsageError
from arielml.frontends.tflite_reader import RawModel, RawOp, RawSubgraph, read_options
from arielml.ir import Op, OpKind, Tensor, TensorType

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


def init_refusals(raw: RawModel, opcode_name) -> dict[str, int]:
    """What the init subgraphs hold beyond assignments of constants, by op name (listed
    with the model's unsupported ops, all at once)."""
    out: dict[str, int] = {}
    for k in sorted(set(init_subgraphs(raw))):
        for op in raw.subgraphs[k].ops:
            if op.code not in (B.VAR_HANDLE, B.ASSIGN_VARIABLE):
                name = f"{opcode_name(op.code, op.custom)} in CALL_ONCE init subgraph {k}"
                out[name] = out.get(name, 0) + 1
    return out


def _first_state_use(raw: RawModel) -> int:
    uses = [op.index for op in raw.ops if op.code in (B.READ_VARIABLE, B.ASSIGN_VARIABLE)]
    return min(uses, default=len(raw.ops))


def _evaluate_init(raw: RawModel, k: int, tensor_type) -> dict[tuple[str, str], tuple[TensorType, bytes]]:
    """What init subgraph k assigns: variable key -> (type, bytes) of the constant.
    (Its other ops were refused before, with the model's unsupported ops: init_refusals.)"""
    sg = raw.subgraphs[k]
    handles = _handles(raw, sg)
    values = {}
    for op in sg.ops:
        if op.code == B.VAR_HANDLE:
            continue
        if op.code != B.ASSIGN_VARIABLE:
            raise UsageError(f"{raw.path}: CALL_ONCE init subgraph {k}: op {op.index} is not supported "
                             "(an init subgraph may only assign constants to variables)")
        key = _handle(raw, op, handles, "ASSIGN_VARIABLE")
        t = sg.tensors[op.inputs[1]] if len(op.inputs) > 1 and 0 <= op.inputs[1] < len(sg.tensors) else None
        blob = raw.buffers.get(t.buffer) if t is not None else None
        if blob is None:
            raise UsageError(f"{raw.path}: CALL_ONCE init subgraph {k}: op {op.index} ASSIGN_VARIABLE "
                             "assigns a value that is not a constant (not supported)")
        values[key] = (tensor_type(raw, t), blob)
    return values


def variables(raw: RawModel, tensors: dict[int, Tensor], tensor_type) -> dict[int, Tensor]:
    """Resource tensor index of subgraph 0 -> its variable tensor (shared by every handle
    of one variable). Refuses what TFLM would not run and what is not supported.
    `tensor_type(raw, raw_tensor)`: the importer's type of a raw tensor."""
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
    init: dict[tuple[str, str], tuple[TensorType, bytes]] = {}
    for k in inits:
        init.update(_evaluate_init(raw, k, tensor_type))
    for key, (ty, _) in init.items():
        types.setdefault(key, ty)
    by_key: dict[tuple[str, str], Tensor] = {}
    names = {t.name for t in tensors.values()}
    for key, ty in types.items():
        by_key[key] = Tensor(_unique(f"variable:{key[1]}", names), ty, init=_initial(raw, key, ty, init))
    for index, key in read:
        if key not in by_key:
            raise UsageError(f"{raw.path}: op {index} READ_VARIABLE reads variable {key[1]!r}, "
                             "which nothing assigns (TFLM has no buffer for it)")
    return {i: by_key[k] for i, k in handles.items() if k in by_key}


def _unique(name: str, names: set[str]) -> str:
    base, n = name, 1
    while name in names:
        n += 1
        name = f"{base}#{n}"
    names.add(name)
    return name


def _initial(raw: RawModel, key, ty: TensorType, init: dict) -> np.ndarray:
    if key in init:
        ity, blob = init[key]
        if len(blob) != ty.nbytes:
            raise UsageError(f"{raw.path}: CALL_ONCE assigns {len(blob)} bytes to variable {key[1]!r}, "
                             f"which holds {ty.nbytes}")
        return np.frombuffer(blob, ty.dtype.numpy).reshape(ty.shape).copy()
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
