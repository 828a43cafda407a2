"""Band fusion and tile-by-tile in-place rules (plan/fusion.py, lifetimes.tiled_in_place_ok).

The legality rule is checked against a brute-force reachability oracle on random DAGs and
on the cases it must refuse; the band geometry is checked by running each band's smaller
conv and the in-place op's band through the host kernels, bit for bit against the whole
ops; the fused plans of resnet are checked for what the firmware needs: no two tasks that
may run at the same time touch overlapping bytes unless both only read them.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _models import MODELS_DIR, residual_model
from arielml.boards import get_board
from arielml.oracle.host import execution_order, run_tasks
from arielml.oracle.tensors_io import random_inputs
from arielml.pipeline import compile_model
from arielml.plan.arena import plan_arena
from arielml.plan.fusion import band_binary, band_conv, bands, candidates, hb_edges
from arielml.plan.lifetimes import tiled_in_place_ok

RESNET = MODELS_DIR / "pretrainedResnet_quant.tflite"


def test_in_place_rule_accepts_a_total_order():
    edges = [("w", "t1"), ("w", "t2"), ("t1", "r"), ("t2", "r")]
    assert tiled_in_place_ok(edges, {"t1", "t2"}, {"w"}, {"r"})


@pytest.mark.parametrize("edges,tasks,before,after", [
    ([("w", "t1"), ("t1", "r")], {"t1", "t2"}, {"w"}, {"r"}),  # t2 unordered against both
    ([("w", "t1"), ("t1", "r"), ("x", "r")], {"t1"}, {"w", "x"}, {"r"}),  # another reader runs beside t1
    ([("w", "t1")], {"t1"}, {"w"}, {"r"}),  # the result's reader may start before t1 ends
    ([("t1", "t1b")], {"t1"}, {"t1"}, set()),  # a task ordered against itself
    ([], set(), set(), set()),  # nothing to run in place
])
def test_in_place_rule_refuses(edges, tasks, before, after):
    assert not tiled_in_place_ok(edges, tasks, before, after)


@st.composite
def dags(draw):
    n = draw(st.integers(1, 10))
    edges = [(a, b) for a in range(n) for b in range(a + 1, n) if draw(st.booleans())]
    roles = [draw(st.sampled_from("tbaz")) for _ in range(n)]
    return n, edges, roles


@settings(max_examples=200, deadline=None)
@given(dags())
def test_in_place_rule_is_reachability(case):
    n, edges, roles = case
    reach = {i: set() for i in range(n)}
    for a in reversed(range(n)):
        for x, y in edges:
            if x == a:
                reach[a] |= {y} | reach[y]
    tasks, before, after = ({i for i in range(n) if roles[i] == r} for r in "tba")
    want = bool(tasks) and all(t in reach[b] for b in before for t in tasks) and all(
        a in reach[t] for t in tasks for a in after)
    assert tiled_in_place_ok(edges, tasks, before, after) == want


@pytest.fixture(scope="module")
def resnet():
    board = get_board("qemu-riscv32")
    return {n: compile_model(RESNET, board=board, cores=n) for n in (1, 2, 4)}


@pytest.mark.parametrize("cores", [1, 2, 4])
def test_band_geometry_is_bit_exact_with_the_whole_ops(resnet, cores):
    _check_bands(resnet[cores])


# 3 cores: whole-row tiles plus the remainder row cut by channels (13 rows); 16: channel tiles.
@pytest.mark.parametrize("cores", [3, 16])
def test_band_geometry_of_dilated_and_depthwise_convs(tmp_path, cores):
    c = compile_model(residual_model(tmp_path / "residual.tflite"), cores=cores)
    assert len(candidates(c)) == 2
    tiles = [t.tile for t in c.tasks if t.tile.op == 2]
    assert any(t.channels != (0, 8) for t in tiles)
    assert (cores == 3) == any(t.channels == (0, 8) and t.rows[1] - t.rows[0] > 1 for t in tiles)
    _check_bands(c)


def _check_bands(c):
    env = run_tasks(c.graph, random_inputs(c.graph, 3), c.tasks, execution_order(c.schedule), c.lowered)
    fusions = candidates(c)
    assert fusions, "resnet's residual ADDs must be candidates"
    for f in fusions:
        conv, add = c.lowered[f.producer], c.lowered[f.consumer]
        got = np.array(env[f.residual])
        for t in (t for t in c.tasks if t.tile.op == f.producer):
            (c0, c1) = t.tile.channels
            for b in bands(conv, t.tile.rows):
                h = b.r1 - b.r0
                band = band_conv(conv, b).host({conv.inputs[0]: env[conv.inputs[0]][:, b.lo:b.hi]},
                                                (0, h, c0, c1), None)
                res = env[f.residual][:, b.r0:b.r1]
                sub = band_binary(add, b)
                ops = {f.residual: res, f.inner: band}
                y = sub.host(ops, (0, h, c0, c1), None)
                got[:, b.r0:b.r1, :, c0:c1] = y[..., c0:c1]
        assert np.array_equal(got, env[f.result])


def _touches(c, arena, t):
    """(tensor or band, writes) pairs task t touches in the fused firmware."""
    op = c.graph.ops[t.tile.op]
    f = arena.fusion_of(t.tile.op)
    if f is not None and f.consumer == t.tile.op:
        return []
    names = [(n, False) for n in op.inputs if not c.graph.tensor(n).is_const] + [(n, True) for n in op.outputs]
    if f is not None:
        core = c.schedule.placements[t.id].core
        names = [(n, w) for n, w in names if n != f.inner] + [(f.residual, True), (f.band(core), True)]
    return names


@pytest.mark.parametrize("cores", [1, 2, 4])
def test_fused_plan_keeps_concurrent_tasks_apart(resnet, cores):
    c = resnet[cores]
    arena = plan_arena(c)
    assert arena.fused and arena.size < plan_arena(c, fuse=False).size
    assert arena.offsets[arena.fused[0].result] == arena.offsets[arena.fused[0].residual]
    n = len(c.tasks)
    after = [set() for _ in range(n)]
    for a, b in reversed(sorted(hb_edges(c))):
        after[a] |= {b} | after[b]
    for _ in range(n):  # close transitively whatever the edge order
        for a in range(n):
            for b in list(after[a]):
                after[a] |= after[b]
    spans = {t.id: [(x, arena.offsets[x], arena.offsets[x] + arena.sizes[x], w) for x, w in _touches(c, arena, t)]
             for t in c.tasks}
    for a in range(n):
        for b in range(a + 1, n):
            if b in after[a] or a in after[b]:
                continue
            for x0, s0, e0, w0 in spans[a]:
                for x1, s1, e1, w1 in spans[b]:
                    if (w0 or w1) and s0 < e1 and s1 < e0:
                        # Only tiles of one op share a tensor they write (disjoint tiles; the
                        # fused tasks' residual tiles, an in-place op's operand and output too),
                        # never bytes of another tensor.
                        same = x0 == x1 or arena.same_bytes(x0, x1)
                        assert c.tasks[a].tile.op == c.tasks[b].tile.op and same, (a, b, x0, x1)


def test_elementwise_in_place_hint_over_tiles():
    from arielml.plan import Buffer, Uses, from_schedule

    bufs = [Buffer("x", 64), Buffer("y", 64), Buffer("z", 64)]
    # Two ADD tiles t1, t2 read x and write y; "late" reads x too, q reads y.
    uses = {"x": Uses(frozenset({"p"}), frozenset({"t1", "t2", "late"})),
            "y": Uses(frozenset({"t1", "t2"}), frozenset({"q"})), "z": Uses(frozenset({"q"}), frozenset())}
    hb = [("p", "t1"), ("p", "t2"), ("p", "late"), ("t1", "q"), ("t2", "q")]
    assert not from_schedule(bufs, uses, hb, tiled=[("y", "x")]).may_alias  # late may read clobbered x
    ok = from_schedule(bufs, uses, hb + [("late", "t1"), ("late", "t2")], tiled=[("y", "x")])
    assert ok.may_alias == {frozenset(("x", "y"))}
    host = {**uses, "x": Uses(frozenset(), uses["x"].readers)}  # a graph input: the host's
    assert not from_schedule(bufs, host, hb + [("late", "t1"), ("late", "t2")], tiled=[("y", "x")]).may_alias
