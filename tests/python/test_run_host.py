"""Whole MLPerf Tiny models on the host through the Rust kernels, against TFLM.

Every intermediate tensor is compared, not only outputs (on random inputs kws and vww
saturate their softmax, which would hide errors upstream), for several tilings.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from _models import MODELS_DIR as MLPERF_DIR
from arielml.oracle.check import check_tflite
from arielml.oracle.host import execution_order, run_tasks
from arielml.oracle.reference import TflmReference
from arielml.oracle.tensors_io import random_inputs
from arielml.pipeline import compile_model

INT8_MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8", "str_ww_ref_model"]


def _run(compiled, inputs):
    return run_tasks(compiled.graph, inputs, compiled.tasks, execution_order(compiled.schedule),
                     compiled.lowered)


@pytest.mark.parametrize("model", INT8_MODELS)
def test_bit_exact_with_tflm_on_every_intermediate_tensor(model):
    path = MLPERF_DIR / f"{model}.tflite"
    ref = TflmReference(path)
    tilings = {cores: compile_model(path, cores=cores) for cores in (1, 2, 4)}
    g = tilings[1].graph
    for seed in range(20):
        inputs = random_inputs(g, seed)
        for cores in (1, 2, 4) if seed < 3 else ((1, 2, 4)[seed % 3],):
            env = _run(tilings[cores], inputs)
            report = check_tflite(g, path, inputs, env, ref)
            assert report.ok, f"seed {seed}, {cores} cores: {report.summary()}"
            assert len(report.compared) == len(g.ops), report.compared


def test_the_check_catches_a_one_lsb_parameter_error():
    path = MLPERF_DIR / "kws_ref_model.tflite"
    compiled = compile_model(path)
    conv = next(low for low in compiled.lowered if "multiplier" in low.consts)
    conv.offsets = (conv.offsets[0], conv.offsets[1] + 1)  # output zero point off by one LSB
    inputs = random_inputs(compiled.graph, 0)
    report = check_tflite(compiled.graph, path, inputs, _run(compiled, inputs))
    assert not report.ok
    assert report.mismatches[0].tensor == compiled.graph.ops[conv.index].outputs[0]


def _latest_first(tasks) -> list[int]:
    """A valid order that runs each task as late as dependencies allow: any missing
    dependency shows up as a consumer reading rows its producer has not written yet."""
    done, order = set(), []
    while len(order) < len(tasks):
        ready = [t.id for t in tasks if t.id not in done and set(t.deps) <= done]
        pick = max(ready)
        done.add(pick)
        order.append(pick)
    return order


@pytest.mark.parametrize("model", INT8_MODELS)
def test_tile_exact_dependencies_are_sufficient(model):
    path = MLPERF_DIR / f"{model}.tflite"
    from arielml.pipeline import compile_graph, load

    c = compile_graph(load(path), source=path, cores=4, exact_deps=True)
    op_level = compile_graph(c.graph, source=path, cores=4)
    assert sum(map(len, (t.deps for t in c.tasks))) <= sum(map(len, (t.deps for t in op_level.tasks)))
    inputs = random_inputs(c.graph, 1)
    env = run_tasks(c.graph, inputs, c.tasks, _latest_first(c.tasks), c.lowered)
    report = check_tflite(c.graph, path, inputs, env)
    assert report.ok, report.summary()


def test_tiles_interleaved_across_cores_equal_one_core():
    path = MLPERF_DIR / "pretrainedResnet_quant.tflite"
    one, four = compile_model(path, cores=1), compile_model(path, cores=4)
    assert len(four.tasks) > 2 * len(one.tasks)
    inputs = random_inputs(one.graph, 7)
    a, b = _run(one, inputs), _run(four, inputs)
    for name in one.graph.outputs:
        assert np.array_equal(a[name], b[name])


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "arielml", *args], capture_output=True, text=True, timeout=300)


def test_run_cli_reads_inputs_writes_outputs_and_checks(tmp_path):
    path = MLPERF_DIR / "ad01_int8.tflite"
    g = compile_model(path).graph
    x = random_inputs(g, 3)[g.inputs[0]]
    np.savez(tmp_path / "in.npz", x)  # stored as arr_0
    proc = _cli("run", str(path), "--inputs", str(tmp_path / "in.npz"), "--outputs",
                str(tmp_path / "out.npz"), "--check", "--cores", "2")
    assert proc.returncode == 0, proc.stderr
    assert "bit-exact with TFLM" in proc.stdout
    with np.load(tmp_path / "out.npz") as out:
        assert list(out.files) == g.outputs
        ref = TflmReference(path)
        ref.run([x])
        assert np.array_equal(out[g.outputs[0]], ref.outputs(1)[0].reshape(out[g.outputs[0]].shape))


@pytest.mark.parametrize("content,needle", [
    (lambda p: np.savez(p, np.zeros(3, np.int8)), "has 3 elements"),
    (lambda p: np.savez(p, np.zeros((1, 640), np.float32)), "is float32"),
    (lambda p: p.write_bytes(b"not a zip"), "not a readable .npz"),
])
def test_bad_inputs_file_is_one_line_exit_2(tmp_path, content, needle):
    f = tmp_path / "bad.npz"
    content(f)
    proc = _cli("run", str(MLPERF_DIR / "ad01_int8.tflite"), "--inputs", str(f))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and needle in proc.stderr, proc.stderr
