"""Lowerings of the ops beyond conv/pool/FC/ADD/softmax: host runs against TFLM (int8
bit-exact, float32 within 1e-5) for several tilings, multi-output SPLIT, and the Rust
text each lowering emits compiled against the kernel and runtime crates."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "models"))

from tflite_test_models import Builder, new_ops_model, write_all  # noqa: E402

from arielml.codegen.model_rs import model_rs  # noqa: E402
from arielml.errors import UsageError  # noqa: E402
from arielml.ir import OpKind  # noqa: E402
from arielml.lower import LOWERINGS  # noqa: E402
from arielml.oracle.check import check_tflite  # noqa: E402
from arielml.oracle.host import execution_order, run_tasks  # noqa: E402
from arielml.oracle.reference import TflmReference  # noqa: E402
from arielml.oracle.tensors_io import random_inputs  # noqa: E402
from arielml.pipeline import compile_model  # noqa: E402
from arielml.plan.arena import plan_arena  # noqa: E402


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("tflite")
    return {p.name: p for p in write_all(d)}


def _run(c, inputs):
    return run_tasks(c.graph, inputs, c.tasks, execution_order(c.schedule), c.lowered)


def test_every_op_kind_but_shape_has_a_lowering():
    # SHAPE is always folded to a constant (passes.fold); everything else runs.
    assert set(OpKind) - set(LOWERINGS) == {OpKind.SHAPE}


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_new_ops_match_tflm_for_every_tiling(models, dtype):
    path = models[f"new_ops_{dtype}.tflite"]
    ref = TflmReference(path)
    compiled = {cores: compile_model(path, cores=cores) for cores in (1, 2, 4)}
    g = compiled[1].graph
    kinds = {op.kind for op in g.ops}
    assert {OpKind.RELU, OpKind.RELU6, OpKind.LEAKY_RELU, OpKind.LOGISTIC, OpKind.TANH,
            OpKind.HARD_SWISH, OpKind.CONCATENATION, OpKind.PAD, OpKind.MEAN, OpKind.TRANSPOSE,
            OpKind.STRIDED_SLICE, OpKind.SPLIT, OpKind.PACK} <= kinds
    if dtype == "int8":
        assert {OpKind.QUANTIZE, OpKind.DEQUANTIZE} <= kinds
    n_outputs = sum(len(op.outputs) for op in g.ops)
    assert len(compiled[4].tasks) > len(compiled[1].tasks)  # elementwise ops really split
    for seed in range(3):
        inputs = {k: v * 3 for k, v in random_inputs(g, seed).items()}  # reach saturation
        for cores, c in compiled.items():
            report = check_tflite(g, path, inputs, _run(c, inputs), ref)
            assert report.ok, f"seed {seed}, {cores} cores: {report.summary()}"
            assert len(report.compared) == n_outputs
            if dtype == "int8":
                assert report.int_tensors == n_outputs - 1  # all but the DEQUANTIZE output
                assert report.int_differing == 0 and report.max_rel == 0.0
            else:
                assert report.float_tensors == n_outputs and report.max_rel <= 1e-5


def test_split_lowering_writes_every_output(models):
    c = compile_model(models["new_ops_int8.tflite"], cores=2)
    splits = [low for low in c.lowered if low.op.kind is OpKind.SPLIT]
    assert splits and all(len(low.outputs) == 2 and low.outputs[0] == low.output for low in splits)
    env = _run(c, random_inputs(c.graph, 0))
    for low in splits:
        x = env[low.inputs[0]]
        parts = np.split(x, np.cumsum([env[n].shape[low.axis] for n in low.outputs])[:-1], axis=low.axis)
        for name, want in zip(low.outputs, parts):
            assert np.array_equal(env[name], want)


def test_int8_logistic_needs_tflm_output_quantization(tmp_path):
    b = Builder()
    x = b.act([1, 4], "int8", (0.1, 0))
    y = b.op("LOGISTIC", [x], [b.act([1, 4], "int8", (0.01, 0))])
    path = tmp_path / "bad.tflite"
    path.write_bytes(b.build([x], [y]))
    with pytest.raises(UsageError, match="LOGISTIC must output scale 0.00390625"):
        compile_model(path)


def _onnx_models(d: Path) -> list[Path]:
    from onnx_test_models import write_all as write_onnx
    return list(write_onnx(d).values())


@pytest.mark.skipif(shutil.which("cargo") is None, reason="needs cargo")
def test_generated_rust_compiles(models, tmp_path):
    """model.rs of every test model, 1 and 3 cores (partial tiles), in one scratch crate
    over firmware/kernels and firmware/runtime: `cargo check` must accept it."""
    crate = tmp_path / "crate"
    src = crate / "src"
    src.mkdir(parents=True)
    (crate / "Cargo.toml").write_text(
        '[package]\nname = "lowering-check"\nversion = "0.0.0"\nedition = "2021"\n\n'
        f'[dependencies]\narielml-kernels = {{ path = "{ROOT / "firmware/kernels"}" }}\n'
        f'arielml-runtime = {{ path = "{ROOT / "firmware/runtime"}" }}\n\n[workspace]\n')
    paths = list(models.values()) + _onnx_models(tmp_path / "onnx")
    mods = []
    for i, path in enumerate(paths):
        for cores in (1, 3):
            c = compile_model(path, cores=cores)
            text, blob = model_rs(c, plan_arena(c), i)
            name = f"m{i}_{cores}"
            (src / name).mkdir()
            (src / name / "mod.rs").write_text(text)
            (src / name / "consts.bin").write_bytes(blob)
            mods.append(name)
    (src / "lib.rs").write_text("#![no_std]\n" + "".join(f"pub mod {m};\n" for m in mods))
    env = {**os.environ, "CARGO_TARGET_DIR": str(tmp_path / "target")}
    proc = subprocess.run(["cargo", "check", "--offline", "--quiet"], cwd=crate, env=env,
                          capture_output=True, text=True, timeout=300)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error")]
    assert proc.returncode == 0, "\n".join(errors[:10]) + proc.stderr[-3000:]


def test_int8_clip_is_a_clamp_in_the_quantized_domain(tmp_path):
    # TFLM has no RELU_N1_TO_1 kernel, so no oracle: with equal input and output
    # quantization the MUL-by-1 lowering must be exactly a clamp to the quantized bounds.
    b = Builder()
    x = b.act([1, 5, 4, 3], "int8", (0.02, 3))
    y = b.op("RELU_N1_TO_1", [x], [b.act([1, 5, 4, 3], "int8", (0.02, 3))])
    path = tmp_path / "clip.tflite"
    path.write_bytes(b.build([x], [y]))
    for cores in (1, 2):
        c = compile_model(path, cores=cores)
        assert [op.kind for op in c.graph.ops] == [OpKind.CLIP]
        inputs = random_inputs(c.graph, 5)
        got = _run(c, inputs)[c.graph.outputs[0]]
        x_in = inputs[c.graph.inputs[0]]
        assert np.array_equal(got, np.clip(x_in, 3 - 50, 3 + 50))  # -1.0 and 1.0 in steps of 0.02
