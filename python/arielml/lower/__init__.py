"""Lowering: each IR op to one resolved kernel call (see base.Lowered).

One explicit list of lowering classes, each naming the op kinds it lowers (`kinds`); an op
kind no class names cannot be executed yet, and `lower_graph` names every such op at once.
"""

from __future__ import annotations

from collections import Counter

from arielml.errors import UsageError
from arielml.ir import Graph, OpKind
from arielml.lower.act import Clamp, Unary
from arielml.lower.base import HostTile, Lowered, RustCx
from arielml.lower.elementwise import Binary
from arielml.lower.fc import FullyConnected
from arielml.lower.math import MathF32
from arielml.lower.memory import Reshape, VariableCopy
from arielml.lower.shape_ops import Concatenation, Mean, Pack, Pad, Split, StridedSlice, Transpose
from arielml.lower.softmax import Softmax
from arielml.lower.window import Conv, Pool

# Each lowering class names the op kinds it lowers (its `kinds`).
LOWERINGS: dict[OpKind, type[Lowered]] = {
    k: cls
    for cls in (Conv, Pool, FullyConnected, Binary, Softmax, Reshape, Unary, Clamp, Mean, Pad, Concatenation,
                Transpose, StridedSlice, Split, Pack, VariableCopy, MathF32)
    for k in cls.kinds
}


def lower_graph(g: Graph, family: str = "portable") -> list[Lowered]:
    """Every op of `g` as a kernel call, specialised for the kernel `family` of the target
    (`lower.packing.board_family`; the host runs the portable family)."""
    missing = Counter(op.kind.value for op in g.ops if op.kind not in LOWERINGS)
    if missing:
        names = ", ".join(f"{k} x{n}" for k, n in sorted(missing.items()))
        raise UsageError(f"{g.source or g.name}: no kernel yet for: {names}")
    lowered = [LOWERINGS[op.kind].lower(g, i, op) for i, op in enumerate(g.ops)]
    for low in lowered:
        low.specialize(family)
    return lowered


__all__ = ["HostTile", "LOWERINGS", "Lowered", "RustCx", "lower_graph"]
