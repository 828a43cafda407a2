"""DIV (float32), SQUARED_DIFFERENCE (int8 and float32) and the float32 math ops ABS, NEG,
SQUARE, SQRT, RSQRT, EXP, LOG, SIN, COS: every tiling against TFLM on the host, over several
quantizations and broadcasts; the generated firmware on qemu-an521 (qemu tier)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))

from tflite_test_models import RELU, Builder  # noqa: E402

from arielml import api  # noqa: E402
from arielml.errors import UsageError  # noqa: E402
from arielml.ir import OpKind  # noqa: E402
from arielml.oracle.check import check_tflite  # noqa: E402
from arielml.oracle.host import execution_order, run_tasks  # noqa: E402
from arielml.oracle.reference import TflmReference  # noqa: E402
from arielml.oracle.tensors_io import random_inputs  # noqa: E402
from arielml.pipeline import compile_model  # noqa: E402

SHAPE = [1, 5, 4, 6]
MATH = ("ABS", "NEG", "SQUARE", "EXP", "SIN", "COS")  # any real input
POSITIVE = ("SQRT", "RSQRT", "LOG")  # fed |x| + 0.01


def float_model(path: Path) -> Path:
    b = Builder()
    x, y = b.act(SHAPE), b.act([1, 1, 4, 6])
    outs = [b.op(k, [x], [b.act(SHAPE)]) for k in MATH]
    pos = b.op("ADD", [outs[0], b.const(np.full([6], 0.01, np.float32))], [b.act(SHAPE)], "AddOptions")
    outs += [b.op(k, [pos], [b.act(SHAPE)]) for k in POSITIVE]
    ypos = b.op("ADD", [b.op("ABS", [y], [b.act([1, 1, 4, 6])]), b.const(np.full([6], 0.5, np.float32))],
                [b.act([1, 1, 4, 6])], "AddOptions")
    outs.append(b.op("DIV", [x, ypos], [b.act(SHAPE)], "DivOptions", fusedActivationFunction=RELU))
    outs.append(b.op("DIV", [outs[1], outs[-2]], [b.act(SHAPE)], "DivOptions"))
    outs.append(b.op("SQUARED_DIFFERENCE", [x, y], [b.act(SHAPE)]))
    path.write_bytes(b.build([x, y], outs))
    return path


def int8_model(path: Path, qx, qy, qo, const_scale) -> Path:
    b = Builder()
    x, y = b.act(SHAPE, "int8", qx), b.act([1, 5, 1, 6], "int8", qy)
    d = b.op("SQUARED_DIFFERENCE", [x, y], [b.act(SHAPE, "int8", qo)])  # broadcast over W
    c = b.const(np.arange(-60, 60, 20, dtype=np.int8), const_scale)
    c.quantization = b.me.Quantization(scales=const_scale, zero_points=-7)
    e = b.op("SQUARED_DIFFERENCE", [c, x], [b.act(SHAPE, "int8", qo)])  # constant first, over channels
    path.write_bytes(b.build([x, y], [d, e]))
    return path


def _check_every_tiling(path: Path, kinds: set[OpKind], dtype_int: bool):
    ref = TflmReference(path)
    for cores in (1, 2, 3):
        c = compile_model(path, cores=cores)
        assert kinds <= {op.kind for op in c.graph.ops}
        if cores > 1:
            assert len(c.tasks) > len(c.graph.ops)  # tiled, not whole
        for seed in range(3):
            x = random_inputs(c.graph, seed)
            env = run_tasks(c.graph, x, c.tasks, execution_order(c.schedule), c.lowered)
            report = check_tflite(c.graph, path, x, env, ref)
            assert report.ok, report.summary()
            if dtype_int:
                assert report.int_tensors >= 2
            else:
                assert report.float_tensors >= 12


def test_float_math_div_and_squared_difference_match_tflm(tmp_path):
    kinds = {OpKind[k] for k in MATH + POSITIVE} | {OpKind.DIV, OpKind.SQUARED_DIFFERENCE}
    _check_every_tiling(float_model(tmp_path / "math.tflite"), kinds, dtype_int=False)


@pytest.mark.parametrize("qx,qy,qo,cs", [
    ((0.05, 3), (0.05, 3), (0.02, -128), 0.05),     # equal input scales
    ((0.1, -20), (0.013, 60), (0.5, -100), 0.2),    # different scales, output multiplier > 1
    ((0.004, 127), (0.9, -128), (40.0, -120), 1.5),  # extreme zero points and scale ratios
])
def test_int8_squared_difference_matches_tflm_bit_exact(tmp_path, qx, qy, qo, cs):
    _check_every_tiling(int8_model(tmp_path / "sqd.tflite", qx, qy, qo, cs), {OpKind.SQUARED_DIFFERENCE}, True)


def test_int8_div_and_int8_math_are_refused_with_one_line(tmp_path):
    b = Builder()
    x, y = b.act(SHAPE, "int8", (0.1, 0)), b.act(SHAPE, "int8", (0.1, 0))
    d = b.op("DIV", [x, y], [b.act(SHAPE, "int8", (0.1, 0))], "DivOptions")
    (tmp_path / "d.tflite").write_bytes(b.build([x, y], [d]))
    with pytest.raises(UsageError, match="DIV on int8 has no kernel"):
        compile_model(tmp_path / "d.tflite")
    b = Builder()
    x = b.act(SHAPE, "int8", (0.1, 0))
    a = b.op("ABS", [x], [b.act(SHAPE, "int8", (0.1, 0))])
    (tmp_path / "a.tflite").write_bytes(b.build([x], [a]))
    with pytest.raises(UsageError, match="ABS on int8 has no kernel here"):
        compile_model(tmp_path / "a.tflite")


@pytest.mark.qemu
@pytest.mark.parametrize("which", ["float", "int8"])
def test_math_ops_run_in_firmware(tmp_path, which):
    path = (float_model(tmp_path / "m.tflite") if which == "float"
            else int8_model(tmp_path / "m.tflite", (0.1, -20), (0.013, 60), (0.5, -100), 0.2))
    ran = api.run(path, "qemu-an521", cores=2, inputs=[random_inputs(api.load(path), s) for s in range(2)])
    verdict = api.check(ran)
    assert verdict.ok, verdict.summary()
