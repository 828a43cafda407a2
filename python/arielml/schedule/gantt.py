"""A schedule as an SVG Gantt chart, written by hand (no plotting dependency).

One row per core, one <rect> per task (and no other rects, so a reader can count tasks),
coloured by op kind, with a <title> tooltip naming the task, its op and its times. Time
runs left to right in estimated cycles; gaps in a row are the core waiting (on another
core's task, a sync, or a barrier). The legend uses circles for the same reason.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from arielml.schedule.list_sched import Schedule

# Distinct, print-friendly colours (Tableau 10), assigned to kinds in order of appearance.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
           "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
ROW_H, ROW_GAP, LEFT, RIGHT, TOP = 28, 10, 70, 20, 34
WIDTH = 1000


def kind_colours(kinds: list[str]) -> dict[str, str]:
    return {k: PALETTE[i % len(PALETTE)] for i, k in enumerate(dict.fromkeys(kinds))}


def _ticks(span: float, n: int = 5) -> list[float]:
    if span <= 0:
        return [0.0]
    step = 10 ** len(str(int(span / n))) / 10 or 1
    for mult in (1, 2, 5, 10):
        if span / (step * mult) <= n:
            step *= mult
            break
    return [i * step for i in range(int(span / step) + 1)]


def gantt_svg(s: Schedule, kinds: list[str], *, title: str = "",
              op_of: list[int] | None = None) -> str:
    """SVG text for `s`; `kinds[t]` is task t's op kind, `op_of[t]` its op index."""
    colours = kind_colours(kinds)
    span = s.makespan or 1.0
    plot_w = WIDTH - LEFT - RIGHT
    x = lambda cycles: LEFT + plot_w * cycles / span  # noqa: E731 - a scale, read inline
    rows_h = len(s.cores) * (ROW_H + ROW_GAP)
    legend_y = TOP + rows_h + 30
    height = legend_y + 20 * ((len(colours) + 3) // 4) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">',
           f'<text x="{LEFT}" y="18" font-size="13">{escape(title)}</text>']
    for tick in _ticks(span):
        tx = x(tick)
        out.append(f'<line x1="{tx:.1f}" y1="{TOP - 4}" x2="{tx:.1f}" y2="{TOP + rows_h}" '
                   f'stroke="#ddd"/>')
        out.append(f'<text x="{tx:.1f}" y="{TOP + rows_h + 14}" text-anchor="middle">'
                   f'{tick:,.0f}</text>')
    for c, table in enumerate(s.cores):
        y = TOP + c * (ROW_H + ROW_GAP)
        out.append(f'<text x="{LEFT - 8}" y="{y + ROW_H / 2 + 4}" text-anchor="end">core {c}</text>')
        out.append(f'<line x1="{LEFT}" y1="{y + ROW_H}" x2="{LEFT + plot_w}" y2="{y + ROW_H}" '
                   f'stroke="#999"/>')
        for t in table:
            p = s.placements[t]
            w = max(0.5, x(p.finish) - x(p.start))
            op = f", op {op_of[t]}" if op_of is not None else ""
            tip = (f"task {t}{op} {kinds[t]}: core {c}, {p.start:,.0f} to {p.finish:,.0f} cycles"
                   f", waits for {list(s.deps[t])}")
            out.append(f'<rect x="{x(p.start):.2f}" y="{y}" width="{w:.2f}" height="{ROW_H}" '
                       f'fill="{colours[kinds[t]]}" stroke="#fff" stroke-width="0.5">'
                       f'<title>{escape(tip)}</title></rect>')
    out.append(f'<text x="{LEFT}" y="{TOP + rows_h + 28}" fill="#666">estimated cycles '
               f'(gaps: waiting)</text>')
    for i, (kind, colour) in enumerate(colours.items()):
        lx, ly = LEFT + (i % 4) * 220, legend_y + 12 + 20 * (i // 4)
        out.append(f'<circle cx="{lx + 6}" cy="{ly - 4}" r="6" fill="{colour}"/>')
        out.append(f'<text x="{lx + 18}" y="{ly}">{escape(kind)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
