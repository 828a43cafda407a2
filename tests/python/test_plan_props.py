"""Property tests: on random problems every plan validates and sits between the bounds.

lower_bound(any linearisation) <= greedy <= oracle, and validate(plan) == [] for both
planners, over random buffer sets with interval lifetimes and with random DAG schedules.
`validate` trusts the problem's conflicts and alias hints, so `simulate` checks the
lifetime rules themselves: it runs the schedule on a tagged memory image.
"""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from arielml.plan import (
    Buffer,
    Uses,
    from_intervals,
    from_schedule,
    lower_bound,
    plan_greedy,
    plan_oracle,
    validate,
)

ALIGNS = st.sampled_from([1, 2, 4, 8, 16, 32])
SIZES = st.one_of(st.integers(0, 64), st.integers(0, 4096))


@st.composite
def interval_problems(draw, hints: bool):
    n = draw(st.integers(0, 24))
    bufs = [Buffer(f"b{i}", draw(SIZES), draw(ALIGNS)) for i in range(n)]
    intervals = {}
    for b in bufs:
        first = draw(st.integers(0, 16))
        intervals[b.id] = (first, first + draw(st.integers(0, 6)))
    pairs = []
    if hints and n >= 2:
        idx = st.integers(0, n - 1)
        pairs = [(f"b{draw(idx)}", f"b{draw(idx)}") for _ in range(draw(st.integers(0, n)))]
        pairs = [(o, i) for o, i in pairs if o != i]
    return bufs, intervals, pairs


@st.composite
def dag_problems(draw):
    """Tasks 0..T-1 with edges only forward (so acyclic); buffers used by random tasks."""
    t = draw(st.integers(1, 10))
    edges = [(a, b) for a in range(t) for b in range(a + 1, t) if draw(st.booleans())]
    n = draw(st.integers(0, 16))
    bufs = [Buffer(i, draw(SIZES), draw(ALIGNS)) for i in range(n)]
    task_sets = st.frozensets(st.integers(0, t - 1), max_size=3)
    uses = {b.id: Uses(draw(task_sets), draw(task_sets)) for b in bufs}
    hints = []
    if n >= 2:
        hints = [(draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))) for _ in range(n)]
        hints = [(o, i) for o, i in hints if o != i]
    return bufs, uses, edges, t, hints


def simulate(plan, uses, edges, rng: random.Random) -> None:
    """Run a random interleaving of task starts and ends on a memory image where every
    byte remembers which buffer wrote it; fail if a task reads a byte that another buffer
    wrote over. Tasks read and write at both their start and end (they may touch memory
    at any moment in between); the host writes writer-less buffers first and reads
    reader-less buffers last. An in-place output may stand in for its input only in the
    reads of the task that writes it.
    """
    bufs = plan.problem.by_id()
    tag = {bid: i for i, bid in enumerate(bufs)}
    mem = np.full(max(plan.arena_size, 1), -1)
    written = set()

    def region(bid):
        return slice(plan.offsets[bid], plan.offsets[bid] + bufs[bid].size)

    def write(bid):
        mem[region(bid)] = tag[bid]
        written.add(bid)

    def check(bid, task):
        if bid not in written:
            return  # a reader racing the first writer: nothing to clobber yet
        ok = {tag[bid]} | {
            tag[o]
            for o in bufs
            if task in uses[o].writers
            and frozenset((o, bid)) in plan.problem.may_alias
            and plan.offsets[o] == plan.offsets[bid]
        }
        seen = set(np.unique(mem[region(bid)]).tolist())
        assert seen <= ok, f"task {task!r} reads {bid!r} but finds buffers {seen - ok}"

    def touch(task):
        for bid in bufs:
            if task in uses[bid].readers:
                check(bid, task)
        for bid in bufs:
            if task in uses[bid].writers:
                write(bid)

    for bid in bufs:
        if not uses[bid].writers:
            write(bid)
    tasks = {t for u in uses.values() for t in (*u.writers, *u.readers)}
    tasks |= {t for e in edges for t in e}
    preds = {("s", t): set() for t in tasks} | {("e", t): {("s", t)} for t in tasks}
    for a, b in edges:
        preds[("s", b)].add(("e", a))
    done = set()
    while len(done) < len(preds):
        ready = sorted((ev for ev in preds if ev not in done and preds[ev] <= done), key=repr)
        ev = ready[rng.randrange(len(ready))]
        touch(ev[1])
        done.add(ev)
    for bid in bufs:
        if not uses[bid].readers:
            check(bid, None)


def interval_uses(bufs, intervals):
    """The sequential schedule as tasks 0, 1, ...: written at `first`, read up to `last`."""
    uses = {}
    for b in bufs:
        first, last = intervals[b.id]
        uses[b.id] = Uses(frozenset({first}), frozenset(range(first, last + 1)))
    steps = max((iv[1] for iv in intervals.values()), default=0)
    return uses, [(s, s + 1) for s in range(steps)]


def check_bounds(problem, floor: int) -> None:
    greedy, oracle = plan_greedy(problem), plan_oracle(problem)
    assert validate(greedy) == []
    assert validate(oracle) == []
    assert floor <= greedy.arena_size <= oracle.arena_size


@settings(max_examples=300, deadline=None)
@given(interval_problems(hints=False))
def test_intervals_plan_within_bounds(case):
    bufs, intervals, _ = case
    floor = lower_bound({b.id: b.size for b in bufs}, intervals)
    check_bounds(from_intervals(bufs, intervals), floor)


@settings(max_examples=300, deadline=None)
@given(interval_problems(hints=True), st.integers(0, 2**32))
def test_intervals_with_in_place_hints_run_correctly(case, seed):
    bufs, intervals, pairs = case
    problem = from_intervals(bufs, intervals, in_place=pairs)
    plan = plan_greedy(problem)
    assert validate(plan) == []
    assert plan.arena_size <= plan_oracle(problem).arena_size
    uses, edges = interval_uses(bufs, intervals)
    simulate(plan, uses, edges, random.Random(seed))


def linear_intervals(bufs, uses, t):
    """Intervals of the task order 0..T-1 (a topological order); host = steps -1 and T."""
    out = {}
    for b in bufs:
        u = uses[b.id]
        steps = [*(u.writers or {-1}), *(u.readers or {t})]
        out[b.id] = (min(steps), max(steps))
    return out


@settings(max_examples=300, deadline=None)
@given(dag_problems(), st.integers(0, 2**32))
def test_dag_plan_within_bounds_and_runs_correctly(case, seed):
    bufs, uses, edges, t, hints = case
    floor = lower_bound({b.id: b.size for b in bufs}, linear_intervals(bufs, uses, t))
    check_bounds(from_schedule(bufs, uses, edges), floor)
    hinted = from_schedule(bufs, uses, edges, in_place=hints)
    plan = plan_greedy(hinted)
    assert validate(plan) == [] and plan.arena_size <= plan_oracle(hinted).arena_size
    rng = random.Random(seed)
    for _ in range(3):
        simulate(plan, uses, edges, rng)


@settings(max_examples=200, deadline=None)
@given(dag_problems())
def test_dag_conflicts_contain_every_linearisation_conflict(case):
    bufs, uses, edges, t, _ = case
    dag = from_schedule(bufs, uses, edges).conflicts
    seq = from_intervals(bufs, linear_intervals(bufs, uses, t)).conflicts
    assert seq <= dag


@settings(max_examples=200, deadline=None)
@given(dag_problems())
def test_total_order_schedule_matches_intervals(case):
    # With every task ordered, "all uses of A before all uses of B" is exactly "A's
    # interval ends before B's starts", so both helpers must agree.
    bufs, uses, _, t, _ = case
    chain = [(a, b) for a in range(t) for b in range(a + 1, t)]
    assert from_schedule(bufs, uses, chain).conflicts == from_intervals(
        bufs, linear_intervals(bufs, uses, t)
    ).conflicts
