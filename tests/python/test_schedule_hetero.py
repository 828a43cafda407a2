"""Cores of different speeds: the 2:1 test board, where the fast core should take about
two thirds of the work and beat splitting the work equally."""

from __future__ import annotations

from pathlib import Path

import pytest

from _models import MODELS_DIR
from arielml.boards import load_board_file
from arielml.pipeline import SYNC_CYCLES, compile_model, core_speeds, tiles_per_op
from arielml.schedule import list_schedule, retime
from test_schedule_props import assert_valid

BOARD = Path(__file__).resolve().parents[1] / "boards" / "hetero-2to1.toml"


@pytest.fixture(scope="module")
def board():
    return load_board_file(BOARD)


def test_board_has_cores_clocked_two_to_one(board):
    assert board.name == "hetero-2to1"
    assert core_speeds(board, 2) == [1.0, 2.0]
    assert tiles_per_op(core_speeds(board, 2)) == 3  # 2 tiles for the fast core, 1 for the slow


@pytest.mark.parametrize("model", ["vww_96_int8", "pretrainedResnet_quant"])
def test_fast_core_gets_two_thirds_and_beats_an_equal_split(board, model):
    path = MODELS_DIR / f"{model}.tflite"
    c = compile_model(path, board=board, cores=2)
    speeds = core_speeds(board, 2)
    s = c.schedule
    assert_valid(c.tasks, c.costs, speeds, SYNC_CYCLES, s)
    work = [sum(c.costs[t] for t in table) for table in s.cores]
    assert 0.6 <= work[1] / sum(work) <= 0.73
    # Equal split: the same tasks scheduled as if the cores were equal, run at true speeds.
    equal = retime(list_schedule(c.tasks, c.costs, [1.0, 1.0], SYNC_CYCLES), c.costs, speeds, SYNC_CYCLES)
    barrier = compile_model(path, board=board, cores=2, mode="barrier").schedule
    assert s.makespan < 0.8 * equal.makespan
    assert s.makespan < 0.8 * barrier.makespan
    # Near what perfect balancing (all work over 3 speed units) allows.
    assert s.makespan <= 1.05 * sum(c.costs) / sum(speeds)
