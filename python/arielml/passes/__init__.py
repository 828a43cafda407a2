"""Graph-to-graph passes. Each takes a verified Graph and returns a new one."""

from __future__ import annotations

from arielml.ir import Graph, verify
from arielml.passes.fold import (
    eliminate_dead_code, fold_constants, fold_requantize_dequantize, fold_reshapes,
)
from arielml.passes.fuse import fuse_activations
from arielml.passes.requant import activation_bounds, compute_requant

PIPELINE = (fold_constants, fold_reshapes, fold_requantize_dequantize, fuse_activations,
            eliminate_dead_code, compute_requant)


def optimize(g: Graph, *, check: bool = True) -> Graph:
    """Run the standard pipeline; with check, verify after every pass."""
    for p in PIPELINE:
        g = p(g)
        if check:
            verify(g)
    return g


__all__ = ["PIPELINE", "activation_bounds", "compute_requant", "eliminate_dead_code",
           "fold_constants", "fold_requantize_dequantize", "fold_reshapes", "fuse_activations", "optimize"]
