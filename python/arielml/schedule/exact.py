"""Exact scheduling of small task graphs with CP-SAT (OR-Tools), for `--schedule exact`.

The model is the one `list_schedule` approximates: each task runs on exactly one core,
taking its cost over that core's speed; a core runs one task at a time; a task starts
after each dependency finishes, plus the sync cost when the dependency ran on another
core; minimize the makespan. Costs are scaled to integers (at most ~1e6 units for the
list schedule's makespan, so rounding moves the result by about a millionth).

The solver's answer is turned back into a `Schedule` the same way codegen expects it:
per-core tables in the order of the solver's start times (which are consistent with
every dependency, so the tables cannot deadlock) and times recomputed with the float
costs by `simulate`. The list schedule is the solver's hint and the fallback: when the
solver finds nothing better within the time limit, the list schedule is returned, so
exact is never worse than static.

Reproducibility: a solve that proves optimality within the limit gives the same makespan
every run, but CP-SAT's parallel portfolio may pick a different optimal (or, when the
limit is hit, a different best-found) schedule from run to run; builds that must be
byte-identical should use the static scheduler.

Large graphs are refused: the model has a boolean per (task, core) and a constraint per
(dependency, core), and beyond a few dozen tasks the solver rarely closes the gap.
"""

from __future__ import annotations

import dataclasses
import math
import time

from arielml.errors import ToolMissing, UsageError
from arielml.schedule.list_sched import Schedule, SolveReport, list_schedule, makespan_lower_bound, simulate
from arielml.schedule.partition import Task

MAX_TASKS = 60
DEFAULT_TIME_LIMIT = 10.0
SCALE_UNITS = 1_000_000  # integer units for the list schedule's makespan


def _cp_model():
    try:
        from ortools.sat.python import cp_model
    except ImportError:
        raise ToolMissing("--schedule exact needs OR-Tools: pip install ortools "
                          "(it is in arielml's dev extra); or use --schedule static") from None
    return cp_model


def exact_schedule(tasks: list[Task], cost: list[float], speeds: list[float],
                   sync_cost: float = 0.0, *, time_limit: float = DEFAULT_TIME_LIMIT,
                   max_tasks: int = MAX_TASKS, workers: int = 8) -> Schedule:
    """A makespan-optimal schedule (or the best found in `time_limit` seconds)."""
    if len(tasks) > max_tasks:
        raise UsageError(f"exact scheduling handles at most {max_tasks} tasks and this graph has "
                         f"{len(tasks)} at {len(speeds)} core(s); use --schedule static")
    t0 = time.monotonic()
    static = list_schedule(tasks, cost, speeds, sync_cost)
    bound = makespan_lower_bound(tasks, cost, speeds)
    if len(speeds) == 1 or not tasks or static.makespan <= bound * (1 + 1e-9):
        why = "one core" if len(speeds) == 1 else "list schedule meets the lower bound"
        return _with_report(static, "optimal", max(bound, static.makespan), t0, why)
    cp_model = _cp_model()
    unit = max(static.makespan / SCALE_UNITS, 1e-9)
    dur = [[max(1, round(cost[t.id] / s / unit)) for s in speeds] for t in tasks]
    sync = round(sync_cost / unit)
    hint = simulate(static, [dur[p.task][p.core] for p in static.placements], sync)
    horizon = math.ceil(hint.makespan)

    m = cp_model.CpModel()
    start = [m.NewIntVar(0, horizon, f"s{t.id}") for t in tasks]
    end = [m.NewIntVar(0, horizon, f"e{t.id}") for t in tasks]
    on = [[m.NewBoolVar(f"x{t.id}_{k}") for k in range(len(speeds))] for t in tasks]
    per_core: list[list] = [[] for _ in speeds]
    for t in tasks:
        m.AddExactlyOne(on[t.id])
        for k in range(len(speeds)):
            per_core[k].append(m.NewOptionalIntervalVar(start[t.id], dur[t.id][k], end[t.id],
                                                        on[t.id][k], f"i{t.id}_{k}"))
        for d in t.deps:
            m.Add(start[t.id] >= end[d])
            if sync > 0:
                for k in range(len(speeds)):
                    m.Add(start[t.id] >= end[d] + sync).OnlyEnforceIf([on[t.id][k], on[d][k].Not()])
    makespan = m.NewIntVar(0, horizon, "makespan")
    m.AddMaxEquality(makespan, end)
    for k in range(len(speeds)):
        m.AddNoOverlap(per_core[k])
        # Redundant, but gives the LP relaxation the load bound.
        m.Add(sum(on[t.id][k] * dur[t.id][k] for t in tasks) <= makespan)
    _break_symmetry(m, on, speeds)
    m.Minimize(makespan)
    relabel = _canonical_cores(hint, speeds)
    for p in hint.placements:
        m.AddHint(start[p.task], round(p.start))
        for k in range(len(speeds)):
            m.AddHint(on[p.task][k], int(k == relabel[p.core]))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit - (time.monotonic() - t0))
    solver.parameters.num_workers = workers
    status = solver.Solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _with_report(static, "fallback", bound, t0,
                            f"solver status {solver.StatusName(status)}: kept the list schedule")
    solved_bound = max(bound, solver.BestObjectiveBound() * unit)
    core_of = [next(k for k in range(len(speeds)) if solver.Value(on[t.id][k])) for t in tasks]
    # Starts order every core's table consistently with every dependency (durations >= 1).
    tables = tuple(tuple(sorted((t.id for t in tasks if core_of[t.id] == k),
                                key=lambda i: (solver.Value(start[i]), i)))
                   for k in range(len(speeds)))
    skeleton = Schedule((), tables, tuple(tuple(t.deps) for t in tasks))
    found = simulate(skeleton, [cost[t.id] / speeds[core_of[t.id]] for t in tasks], sync_cost)
    kind = "optimal" if status == cp_model.OPTIMAL else "feasible"
    if found.makespan > static.makespan:  # only by integer rounding when `kind` is optimal
        return _with_report(static, kind if kind == "optimal" else "fallback", solved_bound, t0,
                            "kept the list schedule: the solver found nothing better")
    return _with_report(found, kind, solved_bound, t0, f"CP-SAT {solver.StatusName(status).lower()}")


def _break_symmetry(m, on, speeds: list[float]) -> None:
    """Cores of equal speed are interchangeable: pin task 0 to the first of its group and
    give lower-numbered cores of a group the earliest tasks (by id)."""
    groups: dict[float, list[int]] = {}
    for k, s in enumerate(speeds):
        groups.setdefault(s, []).append(k)
    for cores in groups.values():
        # Core cores[j] may only be used if some task with a smaller id uses cores[j-1].
        for j in range(1, len(cores)):
            for i in range(len(on)):
                m.AddBoolOr([on[e][cores[j - 1]] for e in range(i)] + [on[i][cores[j]].Not()])


def _canonical_cores(s: Schedule, speeds: list[float]) -> list[int]:
    """Core relabelling (within equal-speed groups) that makes `s` obey `_break_symmetry`."""
    relabel = list(range(len(speeds)))
    for speed in dict.fromkeys(speeds):
        group = [k for k, v in enumerate(speeds) if v == speed]
        by_first = sorted(group, key=lambda k: min(s.cores[k], default=len(s.placements)))
        for old, new in zip(by_first, group):
            relabel[old] = new
    return relabel


def _with_report(s: Schedule, status: str, bound: float, t0: float, detail: str) -> Schedule:
    report = SolveReport(status, s.makespan, min(bound, s.makespan), time.monotonic() - t0, detail)
    return dataclasses.replace(s, report=report)
