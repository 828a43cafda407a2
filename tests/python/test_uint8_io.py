"""uint8 graph inputs and outputs, as wake-word models have them: QUANTIZE uint8 -> int8 at
the input, int8 -> uint8 at the output, DEQUANTIZE uint8 -> float32, and float32 -> uint8;
bit-exact with TFLM on the host for every tiling, and in firmware (qemu tier). float32 ->
uint8 is refused, as TFLM refuses it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))

from tflite_test_models import Builder  # noqa: E402

from arielml import api  # noqa: E402
from arielml.errors import UsageError  # noqa: E402
from arielml.ir import DType, OpKind  # noqa: E402
from arielml.oracle.tensors_io import random_inputs  # noqa: E402


def _model(path: Path) -> Path:
    b = Builder()
    s = b.s

    def t(shape, dt, q=None):
        tt = {"int8": s.TensorType.INT8, "uint8": s.TensorType.UINT8, "float32": s.TensorType.FLOAT32}[dt]
        quant = None if q is None else b.me.Quantization(scales=q[0], zero_points=q[1])
        return b.me.Tensor(shape=tuple(shape), dtype=tt, quantization=quant)

    shape = [1, 5, 4, 3]
    x = t(shape, "uint8", (0.02, 128))
    q = b.op("QUANTIZE", [x], [t(shape, "int8", (0.03, -5))])
    r = b.op("RELU", [q], [t(shape, "int8", (0.03, -5))])
    y = b.op("QUANTIZE", [r], [t(shape, "uint8", (0.025, 120))])
    d = b.op("DEQUANTIZE", [x], [t(shape, "float32")])
    f = b.op("QUANTIZE", [d], [t(shape, "int8", (0.015, 7))])
    u = b.op("QUANTIZE", [f], [t(shape, "uint8", (0.02, 100))])
    path.write_bytes(b.build([x], [y, d, u]))
    return path


def test_uint8_edges_match_tflm_for_every_tiling(tmp_path):
    path = _model(tmp_path / "u8.tflite")
    g = api.load(path)
    assert g.tensor(g.inputs[0]).dtype is DType.UINT8
    assert [op.kind for op in g.ops].count(OpKind.QUANTIZE) == 4
    for cores in (1, 2, 3):
        ran = api.run(path, "host", cores=cores, inputs=[random_inputs(g, s) for s in range(3)])
        verdict = api.check(ran)
        assert verdict.ok, verdict.summary()
        assert all(r.int_tensors >= 2 for r in verdict.reports)


@pytest.mark.qemu
def test_uint8_edges_in_firmware(tmp_path):
    path = _model(tmp_path / "u8.tflite")
    g = api.load(path)
    ran = api.run(path, "qemu-an521", inputs=[random_inputs(g, s) for s in range(2)])
    verdict = api.check(ran)
    assert verdict.ok, verdict.summary()


def test_float32_to_uint8_is_refused_as_tflm_refuses_it(tmp_path):
    b = Builder()
    x = b.act([1, 4], "float32")
    y = b.me.Tensor(shape=(1, 4), dtype=b.s.TensorType.UINT8, quantization=b.me.Quantization(scales=0.1, zero_points=3))
    b.op("QUANTIZE", [x], [y])
    path = tmp_path / "f2u.tflite"
    path.write_bytes(b.build([x], [y]))
    with pytest.raises(UsageError, match="QUANTIZE float32 -> uint8 has no kernel"):
        api.compile(path)
