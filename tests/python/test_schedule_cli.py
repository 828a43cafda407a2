"""`arielml schedule`: the figures next to the barrier baseline, and the SVG Gantt chart."""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from _models import MODELS_DIR
from arielml.cli import cli
from arielml.pipeline import compile_model
from arielml.schedule.gantt import gantt_svg

SVG = "{http://www.w3.org/2000/svg}"
AD01 = str(MODELS_DIR / "ad01_int8.tflite")


def _invoke(*args):
    result = CliRunner().invoke(cli, ["schedule", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("mode", ["static", "barrier"])
def test_prints_figures_beside_the_barrier_baseline(mode):
    out = _invoke(AD01, "--board", "qemu-riscv32", "--cores", "4", "--schedule", mode)
    assert f"{mode}/barrier" in out
    for label in ("makespan (est. cycles)", "core 3 utilisation", "cross-core waits", "tasks"):
        assert label in out
    c = compile_model(AD01, cores=4, mode=mode)
    assert f"{c.schedule.makespan:,.0f}" in out


def test_gantt_svg_has_one_rect_per_task(tmp_path):
    svg = tmp_path / "ad01.svg"
    out = _invoke(AD01, "-b", "qemu-an521", "--gantt", str(svg))
    assert f"gantt: {svg}" in out
    root = ET.parse(svg).getroot()
    assert root.tag == f"{SVG}svg"
    rects = root.iter(f"{SVG}rect")
    c = compile_model(AD01, cores=2)
    tasks = sorted(int(re.match(r"task (\d+)", r.find(f"{SVG}title").text)[1]) for r in rects)
    assert tasks == list(range(len(c.tasks)))


def test_gantt_colours_by_op_kind_and_shows_waits_as_gaps():
    c = compile_model(MODELS_DIR / "str_ww_ref_model.tflite", cores=4, mode="barrier")
    kinds = [c.graph.ops[t.tile.op].kind.name for t in c.tasks]
    root = ET.fromstring(gantt_svg(c.schedule, kinds, title="a < b & c"))
    rects = list(root.iter(f"{SVG}rect"))
    assert len(rects) == len(c.tasks)
    fill = {}
    for r, t in zip(rects, (t for table in c.schedule.cores for t in table)):
        fill.setdefault(kinds[t], set()).add(r.get("fill"))
    assert all(len(f) == 1 for f in fill.values())  # one colour per kind...
    assert len({next(iter(f)) for f in fill.values()}) == len(fill)  # ...and distinct kinds differ
    # A core waiting at a barrier (str_ww on 4 cores: 15 rows in 4+4+4+3) shows as a gap before its next box.
    rows: dict[str, list[tuple[float, float]]] = {}
    for r in rects:
        rows.setdefault(r.get("y"), []).append((float(r.get("x")), float(r.get("width"))))
    assert len(rows) == 4
    gaps = [b[0] - (a[0] + a[1]) for row in rows.values() for a, b in zip(row, row[1:])]
    assert min(gaps) >= -0.5 and max(gaps) > 1.0  # tiny tasks are drawn 0.5 px wide


@pytest.mark.skipif(importlib.util.find_spec("ortools") is None, reason="needs ortools")
def test_exact_reports_the_gap():
    out = _invoke(AD01, "-b", "qemu-an521", "--schedule", "exact", "--time-limit", "2")
    assert "exact/barrier" in out and "gap" in out


def test_exact_refuses_big_graphs():
    result = CliRunner().invoke(cli, ["schedule", str(MODELS_DIR / "vww_96_int8.tflite"),
                                      "-b", "qemu-riscv32", "--schedule", "exact"])
    assert result.exit_code != 0 and "--schedule static" in str(result.exception)
