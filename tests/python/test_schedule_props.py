"""Schedule validity on random task DAGs, random costs and 1-4 cores of random speeds.

The oracle is `simulate`, which runs the per-core tables as the firmware's executor does
(each core in table order, each task waiting for its deps). Every scheduler must give
tables that complete, that respect the real task dependencies in any execution (also with
actual durations 30% off the estimates), and a makespan no schedule could beat.
`assert_valid` is shared with the other schedule tests.
"""

from __future__ import annotations

import importlib.util
import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arielml.schedule import (Deadlock, Schedule, barrier_schedule, list_schedule,
                              makespan_lower_bound, retime, simulate)
from arielml.schedule import exact
from arielml.schedule.partition import Task, TileSpec

EPS = 1e-6


@st.composite
def problems(draw, max_ops: int = 8, max_tiles: int = 4, cores: tuple[int, int] = (1, 4)):
    """(tasks, cost, speeds, sync): ops of 1-4 tiles, each tile reading earlier ops' tiles."""
    tasks: list[Task] = []
    for op in range(draw(st.integers(1, max_ops))):
        earlier = len(tasks)
        for tile in range(draw(st.integers(1, max_tiles))):
            deps = draw(st.lists(st.integers(0, earlier - 1), max_size=4, unique=True)) if earlier else []
            tasks.append(Task(len(tasks), TileSpec(op, (tile, tile + 1), (0, 1)), tuple(sorted(deps))))
    cost = [float(c) for c in draw(st.lists(st.integers(1, 1000), min_size=len(tasks), max_size=len(tasks)))]
    speeds = draw(st.lists(st.sampled_from([1.0, 1.5, 2.0, 3.0]), min_size=cores[0], max_size=cores[1]))
    sync = draw(st.sampled_from([0.0, 5.0, 150.0]))
    return tasks, cost, speeds, sync


def assert_valid(tasks: list[Task], cost: list[float], speeds: list[float], sync: float,
                 s: Schedule, *, exact_deps: bool = True, seed: int = 0) -> None:
    n = len(tasks)
    # Every task placed exactly once, on a core that exists, at the index of its id.
    assert sorted(t for table in s.cores for t in table) == list(range(n))
    assert len(s.cores) == len(speeds)
    for t, p in enumerate(s.placements):
        assert p.task == t and t in s.cores[p.core]
        assert p.finish - p.start == pytest.approx(cost[t] / speeds[p.core])
    # Each core's table runs in planned order without overlap.
    for table in s.cores:
        for a, b in itertools.pairwise(table):
            assert s.placements[a].finish <= s.placements[b].start + EPS
    if exact_deps:  # planned times honour deps and the sync cost across cores
        assert all(set(t.deps) <= set(s.deps[t.id]) for t in tasks)
        for t in tasks:
            p = s.placements[t.id]
            for d in t.deps:
                q = s.placements[d]
                assert p.start + EPS >= q.finish + (sync if q.core != p.core else 0.0)
    # No schedule beats the critical path on the fastest core or all work on all cores.
    assert s.makespan + EPS >= makespan_lower_bound(tasks, cost, speeds)
    # The executor completes with the estimated durations, no later than planned...
    run = retime(s, cost, speeds, sync)
    if exact_deps:
        assert run.makespan <= s.makespan + EPS
    _assert_deps_hold(tasks, run)
    # ...and with actual durations up to 30% off the estimates.
    rng = random.Random(seed)
    for _ in range(3):
        actual = [cost[p.task] / speeds[p.core] * rng.uniform(0.7, 1.3) for p in s.placements]
        _assert_deps_hold(tasks, simulate(s, actual, sync * rng.uniform(0.7, 1.3)))


def _assert_deps_hold(tasks: list[Task], run: Schedule) -> None:
    """In an execution, every task started after the tasks it reads finished."""
    for t in tasks:
        for d in t.deps:
            assert run.placements[d].finish <= run.placements[t.id].start + EPS


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(0, 2**16))
def test_list_schedule_is_valid(problem, seed):
    tasks, cost, speeds, sync = problem
    assert_valid(tasks, cost, speeds, sync, list_schedule(tasks, cost, speeds, sync), seed=seed)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.integers(0, 2**16))
def test_barrier_schedule_is_valid(problem, seed):
    # Barrier deps replace the real ones (every tile of the previous op), so only the
    # execution-level properties apply.
    tasks, cost, speeds, sync = problem
    s = barrier_schedule(tasks, cost, speeds, barrier_cost=sync)
    assert_valid(tasks, cost, speeds, sync, s, exact_deps=False, seed=seed)


def test_simulate_reports_a_deadlock():
    tasks = [Task(0, TileSpec(0, (0, 1), (0, 1)), ()), Task(1, TileSpec(1, (0, 1), (0, 1)), (0,))]
    s = list_schedule(tasks, [1.0, 1.0], [1.0])
    backwards = Schedule(s.placements, ((1, 0),), s.deps)
    with pytest.raises(Deadlock):
        simulate(backwards, [1.0, 1.0])


# The exact solver on small random problems, against brute force where that is cheap.
needs_ortools = pytest.mark.skipif(importlib.util.find_spec("ortools") is None,
                                   reason="ortools (dev extra) not installed")


def brute_force_makespan(tasks: list[Task], cost: list[float], speeds: list[float], sync: float) -> float:
    """Optimum by enumeration: any schedule is ASAP-timed from its per-core orders, and
    those orders are a topological order of all tasks split by core."""
    best = float("inf")
    for order in itertools.permutations(range(len(tasks))):
        pos = {t: i for i, t in enumerate(order)}
        if any(pos[d] > pos[t.id] for t in tasks for d in t.deps):
            continue
        for where in itertools.product(range(len(speeds)), repeat=len(tasks)):
            tables = tuple(tuple(t for t in order if where[t] == k) for k in range(len(speeds)))
            skeleton = Schedule((), tables, tuple(t.deps for t in tasks))
            run = simulate(skeleton, [cost[t] / speeds[where[t]] for t in range(len(tasks))], sync)
            best = min(best, run.makespan)
    return best


@needs_ortools
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_ops=3, max_tiles=2, cores=(2, 2)).filter(lambda p: len(p[0]) <= 5))
def test_exact_matches_brute_force_on_tiny_graphs(problem):
    tasks, cost, speeds, sync = problem
    s = exact.exact_schedule(tasks, cost, speeds, sync, time_limit=2.0, workers=2)
    assert_valid(tasks, cost, speeds, sync, s)
    assert s.report.status == "optimal"
    assert s.makespan == pytest.approx(brute_force_makespan(tasks, cost, speeds, sync), rel=1e-4)


@needs_ortools
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_ops=6, max_tiles=4, cores=(2, 4)))
def test_exact_is_valid_and_no_worse_than_list(problem):
    tasks, cost, speeds, sync = problem
    s = exact.exact_schedule(tasks, cost, speeds, sync, time_limit=0.5, workers=2)
    assert_valid(tasks, cost, speeds, sync, s)
    assert s.makespan <= list_schedule(tasks, cost, speeds, sync).makespan + EPS
    assert s.report.bound <= s.makespan + EPS and 0.0 <= s.report.gap <= 1.0
