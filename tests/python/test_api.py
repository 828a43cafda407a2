"""The Python API the commands wrap (arielml.api): the same results as the CLI, errors as
ArielError lines, no printing."""

from __future__ import annotations

import numpy as np
import pytest

from _models import model_path
from arielml import api
from arielml.cli import main
from arielml.errors import ArielError, UsageError

KWS = model_path("kws_ref_model.tflite")


def test_run_on_host_checks_bit_exact_with_tflm_and_matches_the_cli(tmp_path, capsys):
    ran = api.run(KWS, "host", cores=2, seed=3)
    assert set(ran.outputs) == set(ran.graph.outputs) and ran.where == ""
    report = api.check(ran)
    assert report.ok, report.summary()
    with pytest.raises(SystemExit) as e:
        main(["run", str(KWS), "--cores", "2", "--seed", "3", "--outputs", str(tmp_path / "o.npz")])
    assert e.value.code == 0
    with np.load(tmp_path / "o.npz") as cli_out:
        for name, arr in ran.outputs.items():
            assert np.array_equal(cli_out[name], arr)
    assert capsys.readouterr().err == ""  # the API prints nothing; the CLI's run printed to stdout


def test_run_takes_inputs_as_a_dict_and_differs_with_them():
    a = api.run(KWS, "host", seed=0)
    b = api.run(KWS, "host", inputs={k: np.zeros_like(v) for k, v in a.inputs.items()})
    assert all(not v.any() for v in b.inputs.values())
    assert any(not np.array_equal(a.env[t], b.env[t]) for t in a.graph.tensors if t in a.env and t in b.env)


def test_schedule_and_lines():
    c, base = api.schedule(KWS, "qemu-an521", None, "static")
    assert (c.mode, base.mode, c.cores) == ("static", "barrier", 2)
    lines = api.schedule_lines(KWS, "qemu-an521", c, base)
    assert lines[0].startswith("kws_ref_model.tflite: 2 core(s)") and "barrier" in lines[1]
    assert api.gantt(KWS, c).lstrip().startswith("<svg")


@pytest.mark.parametrize("call", [
    lambda: api.run(KWS, "host", port="/dev/null"),
    lambda: api.run(KWS, "host", baud=9600),
    lambda: api.run(KWS, "rp2040"),
    lambda: api.run(KWS, "host", cores=99),
    lambda: api.bench(None, "qemu-an521"),
    lambda: api.load("/nonexistent/model.tflite"),
    lambda: api.schedule(KWS, "no-such-board", None, "static"),
])
def test_bad_requests_raise_usage_errors_without_running_anything(call):
    with pytest.raises(UsageError) as e:
        call()
    assert "\n" not in str(e.value) and isinstance(e.value, ArielError)


def _sequence(tmp_path, frames: int, **extra):
    g = api.load(KWS)
    rng = np.random.default_rng(7)
    (name,) = g.inputs
    t = g.tensor(name)
    seq = rng.integers(-128, 128, size=(frames, *t.shape), dtype=np.int8)
    path = tmp_path / "seq.npz"
    np.savez(path, **{name: seq}, **extra)
    return path, name, seq


def test_a_sequence_runs_frame_after_frame_and_checks_each(tmp_path, capsys):
    path, name, seq = _sequence(tmp_path, 3)
    ran = api.run(KWS, "host", cores=2, inputs=path)
    assert ran.sequence and len(ran.steps) == 3
    for out, arr in ran.outputs.items():
        assert arr.shape == (3, *ran.graph.tensor(out).shape)
        for k in range(3):  # each frame is what a single invocation of it gives
            single = api.run(KWS, "host", cores=2, inputs={name: seq[k]})
            assert np.array_equal(arr[k], single.outputs[out])
    assert api.check(ran).ok
    with pytest.raises(SystemExit) as e:
        main(["run", str(KWS), "--inputs", str(path), "--check", "--outputs", str(tmp_path / "o.npz")])
    assert e.value.code == 0
    assert "all 3 invocations match" in capsys.readouterr().out
    with np.load(tmp_path / "o.npz") as o:
        assert all(o[k].shape[0] == 3 for k in o.files)


def test_bad_sequences_are_one_line_errors(tmp_path):
    g = api.load(KWS)
    (name,) = g.inputs
    shape = g.tensor(name).shape
    empty = tmp_path / "empty.npz"
    np.savez(empty, **{name: np.zeros((0, *shape), np.int8)})
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, **{name: np.zeros((2, 3, *shape), np.int8)})
    for path, needle in [(empty, "no frames"), (wrong, r"or \(N, ")]:
        with pytest.raises(UsageError, match=needle):
            api.run(KWS, "host", inputs=path)


@pytest.mark.qemu
def test_a_sequence_on_qemu_runs_in_one_session_bit_exact(tmp_path):
    path, name, seq = _sequence(tmp_path, 4)
    ran = api.run(KWS, "qemu-an521", inputs=path)
    assert ran.where.endswith("4 invocations in one session") and len(ran.steps) == 4
    host = api.run(KWS, "host", cores=2, inputs=path)
    for out in ran.graph.outputs:
        assert np.array_equal(ran.outputs[out], host.outputs[out])
    verdict = api.check(ran)
    assert verdict.ok and len(verdict.reports) == 4, verdict.summary()
