"""Band fusion: a window op's output consumed only by an elementwise int8 ADD/SUB/MUL never
exists whole, and the elementwise result is written in place over its other operand.

Residual networks keep three whole tensors live while the second conv of a block runs:
the block's input (for the ADD), the conv's input and its output. Fused, each task of the
conv computes its tile a band of `BAND_ROWS` output rows at a time into a small per-core
band buffer, and at once adds the band to the residual's same elements, overwriting them:

    for each band [r, r + h) of the task's rows:
        band  <- conv(input rows the band's window reads)        (a smaller conv call)
        x[r:r+h] <- x[r:r+h] (+) band                            (binary_s8_in_place)

The ADD's own tasks stay in the schedule and do nothing. Legal only when, over the
parallel schedule, every other use of the residual happens before every conv task and
every conv task happens before every use of the result (`tiled_in_place_ok`), because
the conv tasks overwrite the residual tile by tile and each tile reads only the residual
elements it writes. `arena.plan_arena` fuses a candidate only when the plan gets smaller.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

from arielml.ir import OpKind
from arielml.lower import Lowered
from arielml.pipeline import Compiled

from .lifetimes import tiled_in_place_ok

BAND_ROWS = 2
_WINDOWS = (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D)
_ARITH = {OpKind.ADD: "Add", OpKind.SUB: "Sub", OpKind.MUL: "Mul"}


@dataclass(frozen=True)
class Fusion:
    producer: int  # the window op
    consumer: int  # the elementwise op, whose tasks become empty
    inner: str  # the producer's output: never in the arena
    residual: str  # the consumer's other operand, overwritten by the result
    result: str  # the consumer's output: at the residual's offset
    first: bool  # the residual is the consumer's operand 1

    def band(self, core: int) -> str:
        return f"band{self.producer}@{core}"


def candidates(c: Compiled) -> list[Fusion]:
    """Every (window op, elementwise op) pair the rule above admits on `c`'s schedule."""
    g = c.graph
    readers: dict[str, list[int]] = {}
    for i, op in enumerate(g.ops):
        for name in set(op.inputs):
            readers.setdefault(name, []).append(i)
    out = []
    for p, op in enumerate(g.ops):
        if op.kind not in _WINDOWS or getattr(c.lowered[p], "int8", False) is not True:
            continue
        inner = op.outputs[0]
        users = readers.get(inner, [])
        if len(users) != 1 or inner in g.outputs:
            continue
        e = users[0]
        eop = g.ops[e]
        if (eop.kind not in _ARITH or len(eop.inputs) != 2 or eop.inputs[0] == eop.inputs[1]
                or getattr(c.lowered[e], "int8", False) is not True):
            continue
        first = eop.inputs[1] == inner
        residual, result = eop.inputs[0 if first else 1], eop.outputs[0]
        shapes = {g.tensor(n).type.shape for n in (inner, residual, result)}
        types = {g.tensor(n).dtype for n in (inner, residual, result)}
        if len(shapes) != 1 or len(types) != 1 or g.tensor(residual).is_const:
            continue
        if residual in g.inputs or residual in g.outputs or len(g.tensor(result).type.shape) != 4:
            continue
        f = Fusion(p, e, inner, residual, result, first)
        if _legal(c, f):
            out.append(f)
    return out


def _legal(c: Compiled, f: Fusion) -> bool:
    tasks_of = lambda op: {t.id for t in c.tasks if t.tile.op == op}  # noqa: E731
    g = c.graph
    writers = set().union(*(tasks_of(i) for i, op in enumerate(g.ops) if f.residual in op.outputs))
    others = set().union(*(tasks_of(i) for i, op in enumerate(g.ops)
                           if f.residual in op.inputs and i != f.consumer))
    later = set().union(*(tasks_of(i) for i, op in enumerate(g.ops) if f.result in op.inputs))
    return tiled_in_place_ok(hb_edges(c), tasks_of(f.producer), writers | others, later)


def hb_edges(c: Compiled) -> list[tuple[int, int]]:
    edges = [(d, t) for t, deps in enumerate(c.schedule.deps) for d in deps]
    for table in c.schedule.cores:
        edges += list(zip(table, table[1:]))
    return edges


@dataclass(frozen=True)
class Band:
    """One band of a fused task: output rows [r0, r1) from input rows [lo, hi)."""

    r0: int
    r1: int
    lo: int
    hi: int
    pad_top: int


def bands(low: Lowered, rows: tuple[int, int], band_rows: int = BAND_ROWS) -> list[Band]:
    """The bands of a task's rows and the input rows each band's window reads (clipped
    to the tensor: the rows cut off are the original padding, so the smaller conv's
    `pad_top` is what remains of it)."""
    a = low.a
    s, d, kh = a.stride[0], a.dilation[0], low.w_shape[1]
    height = low.x_shape[1]
    out = []
    for r0 in range(rows[0], rows[1], band_rows):
        r1 = min(rows[1], r0 + band_rows)
        first = r0 * s - a.padding.top
        lo = max(0, first)
        hi = min(height, (r1 - 1) * s - a.padding.top + (kh - 1) * d + 1)
        out.append(Band(r0, r1, lo, max(lo, hi), lo - first))
    return out


def band_conv(low: Lowered, b: Band) -> Lowered:
    """`low` (a Conv lowering) as the smaller conv that computes band `b` alone."""
    sub = copy.copy(low)
    n, _, w, ch = low.x_shape
    sub.x_shape = (n, b.hi - b.lo, w, ch)
    on, _, ow, oc = low.out_shape
    sub.out_shape = (on, b.r1 - b.r0, ow, oc)
    sub.a = dataclasses.replace(low.a, padding=dataclasses.replace(low.a.padding, top=b.pad_top, bottom=0))
    return sub


def band_binary(low: Lowered, b: Band) -> Lowered:
    """`low` (a Binary lowering) over the rows of band `b` only (all shapes equal)."""
    sub = copy.copy(low)
    n, _, w, ch = low.out_shape
    shape = (n, b.r1 - b.r0, w, ch)
    sub.shapes, sub.out_shape = (shape, shape), shape
    return sub


def band_bytes(c: Compiled, f: Fusion, core: int) -> int:
    """The band buffer of `core`: the largest band of its tasks of the producer."""
    n, _, w, ch = c.lowered[f.producer].out_shape
    size = c.graph.tensor(f.inner).dtype.numpy.itemsize
    rows = [min(BAND_ROWS, t.tile.rows[1] - t.tile.rows[0]) for t in c.tasks
            if t.tile.op == f.producer and c.schedule.placements[t.id].core == core]
    return max(rows, default=0) * n * w * ch * size
