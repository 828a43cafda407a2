"""A readable, stable text form of a graph (for humans, diffs and golden tests)."""

from __future__ import annotations

import dataclasses
import math

from arielml.ir.graph import Graph
from arielml.ir.ops import NoAttrs, Op


def _fmt_value(v) -> str:
    if isinstance(v, float):
        return "inf" if v == math.inf else "-inf" if v == -math.inf else f"{v:g}"
    if isinstance(v, tuple):
        return "(" + ", ".join(_fmt_value(x) for x in v) + ")"
    if dataclasses.is_dataclass(v):
        return " ".join(f"{f.name}={_fmt_value(getattr(v, f.name))}"
                        for f in dataclasses.fields(v))
    return str(v)


def _fmt_requant(r) -> str:
    parts = []
    for f in dataclasses.fields(r):
        v = getattr(r, f.name)
        if isinstance(v, tuple) and len(v) > 4:  # per-channel: first values and a count
            v = "(" + ", ".join(str(x) for x in v[:3]) + f", ... x{len(v)})"
        parts.append(f"{f.name}={v}")
    return f"{type(r).__name__} " + " ".join(parts)


def format_attrs(op: Op) -> str:
    if isinstance(op.attrs, NoAttrs):
        return ""
    parts = []
    for f in dataclasses.fields(op.attrs):
        value = getattr(op.attrs, f.name)
        if f.name == "clamp" and value == (-math.inf, math.inf):
            continue  # the common case; printing it is noise
        shown = _fmt_value(value)
        parts.append(f"{f.name}=[{shown}]" if dataclasses.is_dataclass(value) else
                     f"{f.name}={shown}")
    return " ".join(parts)


def format_graph(g: Graph) -> str:
    lines = [f"graph {g.name or g.source or '<unnamed>'}"]
    for name in g.inputs:
        lines.append(f"  input  %{name}: {g.tensors[name].type}")
    for t in g.constants():
        lines.append(f"  const  %{t.name}: {t.type}")
    for op in g.ops:
        ins = ", ".join(f"%{n}" for n in op.inputs)
        outs = ", ".join(f"%{n}: {g.tensors[n].type}" for n in op.outputs)
        attrs = format_attrs(op)
        lines.append(f"  {outs} = {op.kind.value}({ins})" + (f" {{{attrs}}}" if attrs else ""))
        if op.requant is not None:
            lines.append(f"      requant {_fmt_requant(op.requant)}")
    lines.append("  return " + ", ".join(f"%{n}" for n in g.outputs))
    return "\n".join(lines)
