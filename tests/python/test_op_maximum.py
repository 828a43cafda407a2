"""MAXIMUM and MINIMUM (the op added as issue 15's example of one op in five files):
int8 and float32, same shapes and broadcast, every tiling, bit-exact with TFLM on the host;
and the generated firmware on qemu-an521 (qemu tier)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))

from tflite_test_models import Builder  # noqa: E402

from arielml import api  # noqa: E402
from arielml.ir import OpKind  # noqa: E402
from arielml.oracle.check import check_tflite  # noqa: E402
from arielml.oracle.host import execution_order, run_tasks  # noqa: E402
from arielml.oracle.reference import TflmReference  # noqa: E402
from arielml.oracle.tensors_io import random_inputs  # noqa: E402
from arielml.pipeline import compile_model  # noqa: E402


def _model(path: Path, dtype: str) -> Path:
    b = Builder()
    q = (0.05, 3) if dtype == "int8" else None

    def t(shape):
        return b.act(shape, dtype, q)

    x, y = t([1, 5, 4, 6]), t([1, 5, 4, 6])
    c = np.arange(-3, 3, dtype=np.int8) if dtype == "int8" else np.linspace(-1, 1, 6, dtype=np.float32)
    const = b.const(c, 0.05) if dtype == "int8" else b.const(c)
    if dtype == "int8":
        const.quantization = b.me.Quantization(scales=0.05, zero_points=3)
    mx = b.op("MAXIMUM", [x, y], [t([1, 5, 4, 6])])
    mn = b.op("MINIMUM", [mx, const], [t([1, 5, 4, 6])])  # broadcast over the channels
    row = t([1, 1, 4, 6])
    mb = b.op("MAXIMUM", [row, mn], [t([1, 5, 4, 6])])  # broadcast over the rows
    path.write_bytes(b.build([x, y, row], [mb, mx]))
    return path


@pytest.mark.parametrize("dtype", ["int8", "float32"])
def test_maximum_minimum_match_tflm_for_every_tiling(tmp_path, dtype):
    path = _model(tmp_path / f"maxmin_{dtype}.tflite", dtype)
    ref = TflmReference(path)
    for cores in (1, 2, 3):
        c = compile_model(path, cores=cores)
        assert [op.kind for op in c.graph.ops] == [OpKind.MAXIMUM, OpKind.MINIMUM, OpKind.MAXIMUM]
        if cores > 1:
            assert len(c.tasks) > 3  # tiled, not whole
        for seed in range(4):
            x = random_inputs(c.graph, seed)
            if dtype == "float32":  # ties and NaN: TFLM's `a > b ? a : b` picks b for NaN
                first = c.graph.inputs[0]
                x[first].reshape(-1)[::7] = x[c.graph.inputs[1]].reshape(-1)[::7]
                x[first].reshape(-1)[::11] = np.nan
            env = run_tasks(c.graph, x, c.tasks, execution_order(c.schedule), c.lowered)
            report = check_tflite(c.graph, path, x, env, ref)
            assert report.ok, report.summary()
            if dtype == "int8":
                assert report.int_tensors >= 2


@pytest.mark.qemu
def test_maximum_minimum_run_in_firmware_bit_exact(tmp_path):
    path = _model(tmp_path / "maxmin.tflite", "int8")
    ran = api.run(path, "qemu-an521", inputs=[random_inputs(api.load(path), s) for s in range(2)])
    verdict = api.check(ran)
    assert verdict.ok, verdict.summary()
