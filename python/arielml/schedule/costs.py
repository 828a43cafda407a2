"""Cost of each task in cycles, for the scheduler.

A measured profile (per task, from single-core runs) is used when one is given; otherwise
an analytic estimate: MACs (or output elements) times cycles per unit for the op kind on
the core's architecture, plus a fixed call overhead. The estimate only has to rank and
balance tasks; measured profiles replace it where they exist.
"""

from __future__ import annotations

import math

from arielml.ir import Graph, Pool2DAttrs
from arielml.ir.kinds import kind, op_macs, out_grid
from arielml.schedule.partition import Task

CALL_OVERHEAD = 200.0


def op_cost(g: Graph, index: int) -> float:
    """Cycles of the whole op on a speed-1 core, from its kind's record (ir.kinds)."""
    op = g.ops[index]
    k = kind(op.kind)
    if k.per_mac is not None:
        return op_macs(g, op) * k.per_mac
    per = k.per_element
    if isinstance(op.attrs, Pool2DAttrs):
        per *= op.attrs.filter[0] * op.attrs.filter[1] / 4
    return math.prod(g.tensor(op.outputs[0]).type.shape) * per


def task_costs(g: Graph, tasks: list[Task], profile: dict[int, float] | None = None) -> list[float]:
    """Cycles per task on a speed-1 core: measured where `profile` has it, else estimated."""
    whole = [op_cost(g, i) for i in range(len(g.ops))]
    out = []
    for t in tasks:
        if profile and t.id in profile:
            out.append(float(profile[t.id]))
            continue
        op = g.ops[t.tile.op]
        rows, chans = out_grid(op.kind, g.tensor(op.outputs[0]).type.shape)
        share = ((t.tile.rows[1] - t.tile.rows[0]) * (t.tile.channels[1] - t.tile.channels[0])
                 / max(1, rows * chans))
        out.append(whole[t.tile.op] * share + CALL_OVERHEAD)
    return out
