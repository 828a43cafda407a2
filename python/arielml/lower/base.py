"""What every lowered op provides.

Lowering turns one IR op into a kernel call with every parameter resolved to integers
(or floats for float32 ops), computed once. The same record then drives two back ends:
`host()` calls the Rust kernel through the Python extension (host checks run the
device's code), and `rust()` emits the call for the generated firmware crate. Keeping
both in one class per op family means the host path and the firmware cannot disagree
about parameters.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from functools import cache
from typing import ClassVar

import numpy as np

from arielml import _native
from arielml.ir import Graph, Op, OpKind, Tensor
from arielml.ir.kinds import out_grid

# A tile as the kernels' Python wrappers take it: (row0, row1, channel0, channel1).
HostTile = tuple[int, int, int, int]


class RustCx:
    """What `Lowered.rust` needs from the code generator (implemented in codegen)."""

    def input(self, tensor: str) -> str:  # expression of type &[T]
        raise NotImplementedError

    def output(self, tensor: str) -> str:  # expression of type &[Cell<T>] / output slice
        raise NotImplementedError

    def const(self, key: str, array: np.ndarray) -> str:  # expression of type &'static [T]
        raise NotImplementedError

    def scratch(self, words: int) -> str:  # expression of type &mut [u32], this task's core's
        raise NotImplementedError

    def in_place(self, output: str, operand: str) -> bool:
        """Does the memory plan put `output` on `operand`'s bytes (an in-place pair)? Then
        the op must use its in-place kernel, never a read and a write view of one place."""
        return False

    def tile(self, tile: HostTile) -> str:
        r0, r1, c0, c1 = tile
        return f"&Tile::new({r0}..{r1}, {c0}..{c1})"


@dataclass
class Lowered:
    kinds: ClassVar[tuple[OpKind, ...]] = ()  # the op kinds this class lowers (lower.LOWERINGS)

    index: int  # op index in the graph
    op: Op
    inputs: tuple[str, ...]  # activation tensors read, kernel order
    output: str
    out_shape: tuple[int, ...]
    out_dtype: np.dtype
    consts: dict[str, np.ndarray] = field(default_factory=dict)

    # u32 words of per-core scratch a task of this op needs (gathered input rows).
    scratch_words: int = 0

    def specialize(self, family: str) -> None:
        """Choose the kernels of the target's micro-kernel family (lower.packing.FAMILIES):
        ops with packed-weight kernels repack their constants here; others ignore it."""

    def host(self, env: dict[str, np.ndarray], tile: HostTile | None, out: np.ndarray | None) -> np.ndarray:
        raise NotImplementedError

    def rust(self, cx: RustCx, tile: HostTile) -> str:
        raise NotImplementedError

    def key(self, role: str) -> str:
        return f"op{self.index}_{role}"

    def take_channel_requant(self, op: Op) -> None:
        """Per-channel multiplier/shift tables (as constants) and the int8 clamp of a
        CONV/DEPTHWISE/FC op, from passes.requant."""
        rq = op.requant
        self.consts["multiplier"] = np.asarray(rq.multiplier, np.int32)
        self.consts["shift"] = np.asarray(rq.shift, np.int32)
        self.act = (rq.act_min, rq.act_max)

    def per_channel_lit(self, cx: "RustCx") -> str:
        c = self.consts
        return (f"PerChannel {{ multiplier: {cx.const(self.key('multiplier'), c['multiplier'])}, "
                f"shift: {cx.const(self.key('shift'), c['shift'])} }}")

    def packed_lit(self, cx: "RustCx") -> str:
        """`&gemm::Packed { .. }` over this op's packed weights, folded bias and
        per-channel requantization tables (ops that `specialize`d to packed kernels)."""
        c = self.consts
        return (f"&gemm::Packed {{ weights: {cx.const(self.key('weights'), c['weights'])}, "
                f"bias: {cx.const(self.key('bias'), c['bias'])}, "
                f"multiplier: {cx.const(self.key('multiplier'), c['multiplier'])}, "
                f"shift: {cx.const(self.key('shift'), c['shift'])} }}")

    # Multi-output ops (SPLIT) override these two; everything else has one output.
    @property
    def outputs(self) -> tuple[str, ...]:
        """Every tensor this op writes (`output` is the first)."""
        return (self.output,)

    def host_all(self, env: dict[str, np.ndarray], tile: HostTile | None,
                 partial: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """`host` for every output: `partial` holds what earlier tiles of this op wrote."""
        return {self.output: self.host(env, tile, partial.get(self.output))}


def shape4(shape) -> tuple[int, int, int, int]:
    shape = tuple(int(d) for d in shape)
    return (1,) * (4 - len(shape)) + shape


def shape4_lit(shape) -> str:
    n, h, w, c = shape4(shape)
    return f"Shape4::new({n}, {h}, {w}, {c})"


def zp(t: Tensor) -> int:
    return int(t.quant.zero_point[0]) if t.quant is not None else 0


def f32_lit(v: float) -> str:
    if v == float("inf"):
        return "f32::INFINITY"
    if v == float("-inf"):
        return "f32::NEG_INFINITY"
    return f"{float(np.float32(v))!r}_f32"


KCRATE = "arielml_kernels"  # kernel modules model.rs does not import are named in full


def shape5(shape) -> tuple[int, int, int, int, int]:
    """A rank <= 5 shape padded with leading 1s, as the rank-5 kernels take it."""
    shape = tuple(int(d) for d in shape)
    if len(shape) > 5:
        raise ValueError(f"at most 5 dimensions, got {list(shape)}")
    return (1,) * (5 - len(shape)) + shape


def shape5_lit(shape) -> str:
    return f"{KCRATE}::tile::ShapeN([{', '.join(str(d) for d in shape5(shape))}])"


def dims_lit(values, ty: str = "") -> str:
    return "[" + ", ".join(f"{int(v)}{ty}" for v in values) + "]"


def nd_tile(kind, ir_shape, kernel_shape, tile: HostTile | None) -> HostTile:
    """The tile a rank-5 kernel takes for a tile of the op's output as the partitioner
    cut it (`ir.kinds.out_grid` of the IR shape).

    A tile covering the whole output becomes the kernel's whole output: the IR shape can
    differ from the kernel's (MEAN without keep_dims, STRIDED_SLICE's shrunk axes, rank
    5). A partial tile is passed through when both views index the same rows/channels.
    """
    k5 = shape5(kernel_shape)
    full = (0, k5[2], 0, k5[4])
    if tile is None:
        return full
    rows, chans = out_grid(kind, tuple(ir_shape))
    if tuple(tile) == (0, rows, 0, chans):
        return full
    if len(ir_shape) <= 4 and shape5(ir_shape) == k5:
        return tuple(tile)
    raise ValueError(f"{kind.value}: partial tile {tile} of output {list(ir_shape)} has no "
                     f"kernel equivalent")


def tensors(g: Graph, op: Op) -> tuple[list[Tensor], Tensor]:
    return [g.tensor(n) for n in op.inputs], g.tensor(op.outputs[0])


# ---- Kernel parameter structs. The kernels declare them once (`params!` in
# firmware/kernels/src/params.rs); the extension builds them from words, one per field in
# declaration order, and exports the field lists these helpers read. A lowering computes
# its words once and hands the same list to the host kernel and to `params_lit`. ----

@cache
def param_struct(name: str) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(module path, given fields, word fields, word field types) of kernel parameter
    struct `name`: word fields in declaration order; given fields (a `Window2d`...) are
    Rust expressions the caller writes."""
    structs = dict(_native.param_structs())
    if name not in structs:
        raise KeyError(f"no kernel parameter struct {name} (have {', '.join(sorted(structs))})")
    path, given, fields, types = structs[name]
    return path, tuple(given), tuple(fields), tuple(types)


def param_fields(name: str) -> tuple[str, ...]:
    """The word fields of struct `name`, in the order its words list them."""
    return param_struct(name)[2]


def param_words(name: str, **named: int) -> list[int]:
    """The words of struct `name` from its word fields by name (every one, nothing else)."""
    fields = param_fields(name)
    missing, extra = [f for f in fields if f not in named], sorted(set(named) - set(fields))
    if missing or extra:
        raise ValueError(f"{name}: missing fields {missing}, unknown fields {extra}")
    return [operator.index(named[f]) for f in fields]


def _checked(name: str, words) -> list[int]:
    fields = param_fields(name)
    words = [operator.index(w) for w in words]
    if len(words) != len(fields):
        raise ValueError(f"{name} takes {len(fields)} params ({', '.join(fields)}), got {len(words)}")
    _native.check_params(name, words)  # the host's own check: every word fits its field
    return words


def param_dict(name: str, words) -> dict[str, int]:
    """Words of struct `name` by field name."""
    return dict(zip(param_fields(name), _checked(name, words)))


def params_lit(name: str, words, **given: str) -> str:
    """Rust literal of struct `name`: its given fields (`window=...`: Rust expressions),
    then word field i set to `words[i]`. ValueError on wrong or missing given fields, a
    wrong count or a word that does not fit its field (the host kernel's own check)."""
    path, given_fields, fields, types = param_struct(name)
    if sorted(given) != sorted(given_fields):
        raise ValueError(f"{name} takes given fields {list(given_fields)}, got {sorted(given)}")
    words = _checked(name, words)
    values = [("true" if w else "false") if t == "bool" else str(w) for w, t in zip(words, types)]
    parts = [f"{g}: {given[g]}" for g in given_fields] + [f"{f}: {v}" for f, v in zip(fields, values)]
    return f"{path}::{name} {{ " + ", ".join(parts) + " }"
