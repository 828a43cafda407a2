"""`arielml schedule MODEL`: the static schedule's estimated figures against the barrier
baseline (the prior art), and optionally a Gantt chart (wraps arielml.pipeline)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from arielml.boards import get_board
from arielml.build import stored_costs
from arielml.errors import UsageError
from arielml.oracle.tensors_io import writable_file
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
    """(the chosen schedule, the barrier baseline) for `model` on a board: the API behind
    the command."""
    if not model.is_file():
        raise UsageError(f"{model}: no such file")
    board = get_board(board_name)
    n = cores or len(board.cores)
    g = load(model)
    static = compile_graph(g, source=model, board=board, cores=n)
    costs = stored_costs(model, board, static)  # measured by `arielml profile`, if any

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


def _table(ours: Figures, base: Figures, mode: str) -> str:
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
    return "\n".join([fmt(head), *(fmt(r) for r in rows)])


@click.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--board", "-b", "board_name", required=True, help="Board name or board TOML file.")
@click.option("--cores", "-n", type=click.IntRange(min=1), default=None, help="Cores to use (default: all of the board's).")
@click.option("--schedule", "mode", type=click.Choice(["static", "barrier", "exact"]), default="static",
              show_default=True, help="static: list scheduler; barrier: the prior art; "
                                      "exact: CP-SAT optimum for small graphs (needs ortools).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_TIME_LIMIT, show_default=True,
              help="Seconds the exact solver may take.")
@click.option("--gantt", type=click.Path(dir_okay=False, path_type=Path), callback=writable_file,
              help="Write an SVG Gantt chart of the schedule here.")
def schedule(model: Path, board_name: str, cores: int | None, mode: str, time_limit: float,
             gantt: Path | None) -> None:
    """Estimate MODEL's schedule on a board, next to the barrier-per-op baseline.

    Figures are estimates from the cost model (cycles of the slowest core used), not
    measurements: `arielml bench` measures.
    """
    c, base = schedule_model(model, board_name, cores, mode, time_limit)
    speeds = core_speeds(get_board(board_name), c.cores)
    click.echo(f"{model.name}: {c.cores} core(s), speeds {', '.join(f'{s:g}' for s in speeds)}")
    click.echo(_table(Figures.of(c.schedule), Figures.of(base.schedule), mode))
    bound = makespan_lower_bound(c.tasks, c.costs, speeds)
    click.echo(f"lower bound (critical path, total work): {bound:,.0f} cycles")
    r = c.schedule.report
    if r is not None:
        click.echo(f"exact: {r.status}, gap {r.gap:.2%} (solver bound {r.bound:,.0f}), "
                   f"{r.seconds:.1f} s; {r.detail}")
    if gantt is not None:
        kinds = [c.graph.ops[t.tile.op].kind.name for t in c.tasks]
        title = f"{model.name}: {mode} schedule, {c.cores} core(s), makespan {c.schedule.makespan:,.0f} cycles"
        gantt.write_text(gantt_svg(c.schedule, kinds, title=title, op_of=[t.tile.op for t in c.tasks]))
        click.echo(f"gantt: {gantt}")
