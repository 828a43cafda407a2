"""Measured task costs (`arielml profile`) and the parallel replay built on them."""

from __future__ import annotations

import pytest

from _models import MODELS_DIR
from arielml.boards import get_board
from arielml.build import build_model
from arielml.paths import target_dir
from arielml.schedule.profiles import file_digest, load_profile
from arielml.schedule.replay import replay
from arielml.target.profile import profile_model


def test_replay_of_a_known_schedule():
    # 0 -> {1, 2} -> 3; core 0 runs 0, 1, 3 and core 1 runs 2.
    deps = ((), (0,), (0,), (1, 2))
    r = replay(((0, 1, 3), (2,)), deps, [10, 5, 20, 1], overhead=1, wake_latency=3)
    # t0 0..11; t1 11..17; t2 waits for t0 across cores: 14..35; t3 waits for t2: 38..40
    assert r.makespan == 40
    assert r.busy == (11 + 6 + 2, 21)
    assert r.cross_waits == 2


def test_replay_detects_a_deadlocking_order():
    with pytest.raises(ValueError, match="deadlocks"):
        replay(((1, 0),), ((), (0,)), [1, 1])


@pytest.mark.qemu
def test_profile_is_measured_stored_and_used_by_builds(tmp_path, monkeypatch):
    # Profiles go to a fresh cache; compiled crates keep the shared target dir (core built once).
    monkeypatch.setenv("CARGO_TARGET_DIR", str(target_dir()))
    monkeypatch.setenv("ARIELML_CACHE", str(tmp_path / "cache"))
    board, path = get_board("qemu-riscv32"), MODELS_DIR / "ad01_int8.tflite"
    prof = profile_model(path, board, 2)
    assert load_profile(file_digest(path), board, 2) == prof
    assert len(prof.task_instructions) == 20 and min(prof.task_instructions) > 0
    # FC layers of one size cost about the same: the counts are real measurements.
    assert prof.total_instructions >= sum(prof.task_instructions)
    b = build_model(path, board, cores=2, out=tmp_path / "b")
    assert [round(c) for c in b.compiled.costs] == [round(c) for c in prof.task_instructions]
    assert [t["estimated_cycles"] for t in b.manifest["tasks"]] == [round(c) for c in prof.task_instructions]
