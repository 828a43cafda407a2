"""Cost of each task in cycles, for the scheduler.

A measured profile (per task, from single-core runs) is used when one is given; otherwise
an analytic estimate: MACs (or output elements) times cycles per unit for the op kind on
the core's architecture, plus a fixed call overhead. The estimate only has to rank and
balance tasks; measured profiles replace it where they exist.
"""

from __future__ import annotations

import math

from arielml.inspect import op_macs
from arielml.ir import Graph, OpKind
from arielml.partition import Task, out_grid

CALL_OVERHEAD = 200.0
# Cycles per MAC of the reference (naive) kernels, and per output element otherwise.
_PER_MAC = {OpKind.CONV_2D: 6.0, OpKind.DEPTHWISE_CONV_2D: 9.0, OpKind.FULLY_CONNECTED: 5.0}
_PER_ELEMENT = {OpKind.AVERAGE_POOL_2D: 40.0, OpKind.MAX_POOL_2D: 30.0, OpKind.SOFTMAX: 120.0,
                OpKind.ADD: 30.0, OpKind.SUB: 30.0, OpKind.MUL: 20.0}
_DEFAULT_PER_ELEMENT = 10.0


def op_cost(g: Graph, index: int) -> float:
    op = g.ops[index]
    if op.kind in _PER_MAC:
        return op_macs(g, op) * _PER_MAC[op.kind]
    elements = math.prod(g.tensor(op.outputs[0]).type.shape)
    per = _PER_ELEMENT.get(op.kind, _DEFAULT_PER_ELEMENT)
    if op.kind in (OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D):
        per *= op.attrs.filter[0] * op.attrs.filter[1] / 4
    return elements * per


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
