"""`schedule`: a model's static schedule on a board, estimated by the cost model, next to
the barrier-per-op baseline (the prior art); `schedule_lines` is what `arielml schedule`
prints and `gantt` the chart of the chosen schedule."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from arielml.boards import get_board
from arielml.build import stored_costs
from arielml.pipeline import SYNC_CYCLES, Compiled, compile_graph, core_speeds, load
from arielml.schedule import Schedule, makespan_lower_bound
from arielml.schedule.exact import DEFAULT_TIME_LIMIT, exact_schedule
from arielml.schedule.gantt import gantt_svg


@dataclasses.dataclass(frozen=True)
class Figures:
    makespan: float
    utilisation: tuple[float, ...]
    waits: int
    tasks: int

    @staticmethod
    def of(s: Schedule) -> Figures:
        return Figures(s.makespan, tuple(s.utilisation(k) for k in range(len(s.cores))),
                       s.cross_core_waits(), len(s.placements))


def schedule_model(model: Path, board_name: str, cores: int | None, mode: str,
                   time_limit: float = DEFAULT_TIME_LIMIT) -> tuple[Compiled, Compiled]:
    """(the chosen schedule, the barrier baseline) for `model` on a board."""
    board = get_board(board_name)
    n = cores or len(board.cores)
    g = load(model)
    static = compile_graph(g, source=model, board=board, cores=n)
    costs = stored_costs(board, static)  # measured by `arielml profile`, if any

    def compiled(m: str) -> Compiled:
        return compile_graph(g, source=model, board=board, cores=n, mode=m, profile=costs)

    base = compiled("barrier")
    if mode == "exact":
        # Same tasks and costs as static; exact only changes who runs what, and when.
        c = compiled("static")
        sched = exact_schedule(c.tasks, c.costs, core_speeds(board, n), SYNC_CYCLES,
                               time_limit=time_limit)
        return dataclasses.replace(c, schedule=sched, mode="exact"), base
    return compiled(mode), base


def _table(ours: Figures, base: Figures, mode: str) -> list[str]:
    rows = [("makespan (est. cycles)", f"{ours.makespan:,.0f}", f"{base.makespan:,.0f}",
             f"{ours.makespan / base.makespan:.3f}" if base.makespan else "-")]
    for k, (u, b) in enumerate(zip(ours.utilisation, base.utilisation)):
        rows.append((f"core {k} utilisation", f"{u:.1%}", f"{b:.1%}", ""))
    rows.append(("cross-core waits", str(ours.waits), str(base.waits),
                 f"{ours.waits / base.waits:.3f}" if base.waits else "-"))
    rows.append(("tasks", str(ours.tasks), str(base.tasks), ""))
    head = ("", mode, "barrier", f"{mode}/barrier")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(4)]
    fmt = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                              for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return [fmt(head), *(fmt(r) for r in rows)]


def schedule_lines(model: Path, board_name: str, c: Compiled, base: Compiled) -> list[str]:
    speeds = core_speeds(get_board(board_name), c.cores)
    lines = [f"{Path(model).name}: {c.cores} core(s), speeds {', '.join(f'{s:g}' for s in speeds)}",
             *_table(Figures.of(c.schedule), Figures.of(base.schedule), c.mode),
             f"lower bound (critical path, total work): {makespan_lower_bound(c.tasks, c.costs, speeds):,.0f} cycles"]
    r = c.schedule.report
    if r is not None:
        lines.append(f"exact: {r.status}, gap {r.gap:.2%} (solver bound {r.bound:,.0f}), "
                     f"{r.seconds:.1f} s; {r.detail}")
    return lines


def gantt(model: Path, c: Compiled) -> str:
    """SVG Gantt chart of a compiled schedule."""
    kinds = [c.graph.ops[t.tile.op].kind.name for t in c.tasks]
    title = f"{Path(model).name}: {c.mode} schedule, {c.cores} core(s), makespan {c.schedule.makespan:,.0f} cycles"
    return gantt_svg(c.schedule, kinds, title=title, op_of=[t.tile.op for t in c.tasks])
