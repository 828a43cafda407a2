"""`--schedule exact`: CP-SAT on small graphs with known optima, and on real models."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from _models import MODELS_DIR
from arielml.codegen.model_rs import model_rs
from arielml.errors import ToolMissing, UsageError
from arielml.oracle.host import execution_order, run_tasks
from arielml.oracle.tensors_io import random_inputs
from arielml.pipeline import SYNC_CYCLES, compile_model, core_speeds
from arielml.plan.arena import plan_arena
from arielml.schedule import exact
from arielml.schedule import list_schedule
from arielml.schedule.partition import Task, TileSpec
from test_schedule_props import assert_valid

pytest.importorskip("ortools")


def _dag(deps: list[tuple[int, ...]]) -> list[Task]:
    return [Task(i, TileSpec(i, (0, 1), (0, 1)), d) for i, d in enumerate(deps)]


def test_independent_tasks_partition_optimally():
    # 3+3 | 2+2+2 = 6000 on two cores; list scheduling by rank gives 3+2+2 | 3+2 = 7000.
    tasks, cost = _dag([()] * 5), [3000.0, 3000.0, 2000.0, 2000.0, 2000.0]
    assert list_schedule(tasks, cost, [1.0, 1.0]).makespan == 7000.0
    s = exact.exact_schedule(tasks, cost, [1.0, 1.0], time_limit=5.0)
    assert_valid(tasks, cost, [1.0, 1.0], 0.0, s)
    assert s.makespan == pytest.approx(6000.0)
    assert s.report.status == "optimal" and s.report.gap == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("sync, optimum", [(2.0, 14.0), (20.0, 22.0)])
def test_fork_join_pays_sync_only_when_it_helps(sync, optimum):
    # a -> (b, c) -> d with b = c = 10: split b and c when a sync is cheap
    # (1 + 2 + 10 + 1, d joining c), run everything on one core when it is not (1 + 10 + 10 + 1).
    tasks, cost = _dag([(), (0,), (0,), (1, 2)]), [1.0, 10.0, 10.0, 1.0]
    s = exact.exact_schedule(tasks, cost, [1.0, 1.0], sync, time_limit=5.0)
    assert_valid(tasks, cost, [1.0, 1.0], sync, s)
    assert s.makespan == pytest.approx(optimum, rel=1e-4)
    assert s.report.status == "optimal"


def test_fast_core_takes_its_share():
    # Three equal tasks, cores 1:2: the fast core runs two in the time the slow one runs one.
    tasks, cost = _dag([()] * 3), [4000.0] * 3
    s = exact.exact_schedule(tasks, cost, [1.0, 2.0], 150.0, time_limit=5.0)
    assert s.makespan == pytest.approx(4000.0, rel=1e-4)
    assert sorted(len(table) for table in s.cores) == [1, 2] and len(s.cores[1]) == 2


def test_refuses_large_graphs_suggesting_static():
    with pytest.raises(UsageError, match="--schedule static"):
        compile_model(MODELS_DIR / "vww_96_int8.tflite", cores=4, mode="exact")


def test_missing_ortools_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ortools.sat.python", None)
    with pytest.raises(ToolMissing, match="pip install ortools"):
        exact.exact_schedule(_dag([()] * 5), [3.0, 3.0, 2.0, 2.0, 2.0], [1.0, 1.0])


@pytest.mark.parametrize("model, cores", [("ad01_int8", 2), ("str_ww_ref_model", 4)])
def test_no_worse_than_static_on_real_models(model, cores):
    c = compile_model(MODELS_DIR / f"{model}.tflite", cores=cores)
    speeds = core_speeds(None, cores)
    s = exact.exact_schedule(c.tasks, c.costs, speeds, SYNC_CYCLES, time_limit=3.0)
    assert_valid(c.tasks, c.costs, speeds, SYNC_CYCLES, s)
    assert s.makespan <= c.schedule.makespan + 1e-6
    assert s.report.status in ("optimal", "feasible", "fallback")
    assert s.report.bound <= s.makespan + 1e-6 and s.report.gap < 0.05


def test_pipeline_exact_mode_emits_and_runs():
    """Exact schedules go through the arena planner and codegen, and compute what the
    static schedule computes (same tasks, another order)."""
    path = MODELS_DIR / "ad01_int8.tflite"
    c = compile_model(path, cores=2, mode="exact")
    assert c.mode == "exact" and c.schedule.report is not None
    source, _weights = model_rs(c, plan_arena(c), 1)
    assert "static CORE1" in source
    static = compile_model(path, cores=2)
    inputs = random_inputs(c.graph, 0)
    got = run_tasks(c.graph, inputs, c.tasks, execution_order(c.schedule), c.lowered)
    want = run_tasks(static.graph, inputs, static.tasks, execution_order(static.schedule), static.lowered)
    for name in c.graph.outputs:
        np.testing.assert_array_equal(got[name], want[name])
