"""One static arena for a compiled model: every activation tensor at a fixed offset.

Lifetimes come from the parallel schedule, not from op order: a buffer may share bytes
with another only if every use of one is guaranteed to finish before any use of the
other starts (data dependencies and each core's table order are the guarantees). So
buffers of tasks that may run at the same time on two cores never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

from arielml.ir import OpKind
from arielml.pipeline import Compiled
from arielml.plan import Buffer, Plan, Uses, from_schedule, plan_greedy, validate

ALIGN = 8  # float32 and i32 views of a buffer need 4; 8 keeps 64-bit loads possible
# Copy-through ops whose output may overwrite their input when the input dies there.
IN_PLACE = {OpKind.RESHAPE, OpKind.SQUEEZE, OpKind.EXPAND_DIMS}


@dataclass(frozen=True)
class ArenaPlan:
    offsets: dict[str, int]  # activation tensor name -> byte offset
    sizes: dict[str, int]
    size: int  # bytes
    plan: Plan


def activation_uses(c: Compiled) -> dict[str, Uses]:
    writers: dict[str, set[int]] = {}
    readers: dict[str, set[int]] = {}
    for t in c.tasks:
        op = c.graph.ops[t.tile.op]
        # Variables live in the persistent state region (plan/state.py), not the arena.
        for name in op.outputs:
            if not c.graph.tensor(name).is_state:
                writers.setdefault(name, set()).add(t.id)
        for name in op.inputs:
            if not c.graph.tensor(name).is_const and not c.graph.tensor(name).is_state:
                readers.setdefault(name, set()).add(t.id)
    names = set(writers) | set(readers) | set(c.graph.inputs)
    return {n: Uses(frozenset(writers.get(n, ())), frozenset(readers.get(n, ()))) for n in names}


def happens_before(c: Compiled) -> list[tuple[int, int]]:
    edges = [(d, t) for t, deps in enumerate(c.schedule.deps) for d in deps]
    for table in c.schedule.cores:
        edges += list(zip(table, table[1:]))
    return edges


def plan_arena(c: Compiled) -> ArenaPlan:
    uses = activation_uses(c)
    sizes = {n: c.graph.tensor(n).type.nbytes for n in uses}
    buffers = [Buffer(n, sizes[n], ALIGN) for n in sorted(uses)]
    in_place = [(op.outputs[0], op.inputs[0]) for op in c.graph.ops if op.kind in IN_PLACE]
    problem = from_schedule(buffers, uses, happens_before(c), in_place, outputs=c.graph.outputs)
    plan = plan_greedy(problem)
    errors = validate(plan)
    if errors:  # the planner's own invariant: a bug, never user input
        raise AssertionError(f"memory plan is invalid: {errors[0]}")
    return ArenaPlan(dict(plan.offsets), sizes, plan.arena_size, plan)
