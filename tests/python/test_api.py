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
