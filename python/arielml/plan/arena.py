"""One static arena for a compiled model: every activation tensor at a fixed offset.

Lifetimes come from the parallel schedule, not from op order: a buffer may share bytes
with another only if every use of one is guaranteed to finish before any use of the
other starts (data dependencies and each core's table order are the guarantees). So
buffers of tasks that may run at the same time on two cores never overlap.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from arielml.ir import OpKind
from arielml.pipeline import Compiled
from arielml.plan import Buffer, Plan, Uses, from_schedule, plan_greedy, validate
from arielml.plan.fusion import Fusion, band_bytes, candidates

ALIGN = 8  # float32 and i32 views of a buffer need 4; 8 keeps 64-bit loads possible
# Copy-through ops whose output may overwrite their input when the input dies there.
IN_PLACE = {OpKind.RESHAPE, OpKind.SQUEEZE, OpKind.EXPAND_DIMS}
# int8 elementwise ops with an in-place kernel (`binary_s8_in_place`), tile by tile.
IN_PLACE_BINARY = {OpKind.ADD, OpKind.SUB, OpKind.MUL}


@dataclass(frozen=True)
class ArenaPlan:
    offsets: dict[str, int]  # activation tensor name -> byte offset
    sizes: dict[str, int]
    size: int  # bytes
    plan: Plan
    fused: tuple[Fusion, ...] = ()  # band fusions the plan uses (plan/fusion.py)
    notes: tuple[str, ...] = field(default=())  # why each candidate fusion was taken or not

    def same_bytes(self, a: str, b: str) -> bool:
        """Do tensors `a` and `b` live at one offset (an in-place pair or an alias)?"""
        return a != b and self.offsets.get(a, -1) == self.offsets.get(b, -2) and bool(self.sizes[a] and self.sizes[b])

    def fusion_of(self, op: int) -> Fusion | None:
        """The fusion whose producer or consumer is op `op`, if any."""
        return next((f for f in self.fused if op in (f.producer, f.consumer)), None)


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


def elementwise_in_place(c: Compiled, uses: dict[str, Uses]) -> list[tuple[str, str]]:
    """(output, operand) pairs an int8 ADD/SUB/MUL may write in place: every tensor of the
    same shape and element size (no broadcasting: output element i reads operand element
    i only), the operands distinct (`binary_s8_in_place` reads one through cells)."""
    pairs = []
    for i, op in enumerate(c.graph.ops):
        low = c.lowered[i]
        if op.kind not in IN_PLACE_BINARY or getattr(low, "int8", False) is not True or len(op.inputs) != 2:
            continue
        ts = [c.graph.tensor(n) for n in (*op.inputs, op.outputs[0])]
        if len({t.type.shape for t in ts}) != 1 or op.inputs[0] == op.inputs[1] or any(t.is_const for t in ts):
            continue
        pairs += [(op.outputs[0], n) for n in op.inputs if n in uses and op.outputs[0] in uses]
    return pairs


def _fused_uses(c: Compiled, uses: dict[str, Uses], sizes: dict[str, int], fused) -> list[tuple[str, str]]:
    """Rewrite `uses`/`sizes` for `fused`: the inner tensor leaves the arena, the consumer's
    tasks touch nothing, the producer's tasks read and write the residual (which the result
    shares: returned as (result, residual) pairs) and use their core's band buffer."""
    home: dict[str, str] = {}  # a fused result -> the buffer it lives in (chains of blocks)
    for f in sorted(fused, key=lambda f: f.producer):
        prod = {t.id for t in c.tasks if t.tile.op == f.producer}
        cons = {t.id for t in c.tasks if t.tile.op == f.consumer}
        uses.pop(f.inner), sizes.pop(f.inner)
        store = home.get(f.residual, f.residual)
        res, out = uses[store], uses.pop(f.result)
        sizes.pop(f.result)
        uses[store] = Uses(res.writers | prod, (res.readers - cons) | prod | out.readers)
        home[f.result] = store
        for k in range(len(c.schedule.cores)):
            mine = frozenset(t for t in prod if c.schedule.placements[t].core == k)
            if mine:
                uses[f.band(k)], sizes[f.band(k)] = Uses(mine, mine), band_bytes(c, f, k)
    return list(home.items())


def _plan(c: Compiled, fused: tuple[Fusion, ...]) -> ArenaPlan:
    uses = activation_uses(c)
    sizes = {n: c.graph.tensor(n).type.nbytes for n in uses}
    same = _fused_uses(c, uses, sizes, fused)
    buffers = [Buffer(n, sizes[n], ALIGN) for n in sorted(uses)]
    in_place = [(op.outputs[0], op.inputs[0]) for op in c.graph.ops if op.kind in IN_PLACE]
    outputs = [o if o in uses else dict(same)[o] for o in c.graph.outputs]
    problem = from_schedule(buffers, uses, happens_before(c), in_place, outputs=outputs,
                            tiled=elementwise_in_place(c, uses))
    plan = plan_greedy(problem)
    errors = validate(plan)
    if errors:  # the planner's own invariant: a bug, never user input
        raise AssertionError(f"memory plan is invalid: {errors[0]}")
    offsets, out_sizes = dict(plan.offsets), dict(sizes)
    for result, residual in same:
        offsets[result], out_sizes[result] = offsets[residual], sizes[residual]
    return ArenaPlan(offsets, out_sizes, plan.arena_size, plan, fused)


def plan_arena(c: Compiled, fuse: bool = True) -> ArenaPlan:
    """The smallest plan found: every legal band fusion (plan/fusion.py) at once, then
    each dropped again if the arena does not grow without it (fusions can pay only
    together, when each removes one of several equal peaks); none if they do not pay."""
    plain = _plan(c, ())
    found = tuple(candidates(c)) if fuse else ()
    if not found:
        return plain
    best = _plan(c, found)
    if best.size >= plain.size:
        return dataclasses.replace(plain, notes=tuple(
            f"{_what(f)}: not taken, arena {plain.size:,} B either way or larger" for f in found))
    notes = []
    for f in found:
        trial = _plan(c, tuple(g for g in best.fused if g != f))
        if trial.size <= best.size:
            notes.append(f"{_what(f)}: not taken, arena {trial.size:,} B without it")
            best = trial
        else:
            notes.append(f"{_what(f)}: taken, arena {trial.size:,} -> {best.size:,} B")
    return dataclasses.replace(best, notes=tuple(notes))


def _what(f: Fusion) -> str:
    return f"band-fuse op {f.producer} into op {f.consumer} over its residual"
