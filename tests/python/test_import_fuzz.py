"""Corrupt models never crash the importer: each input either becomes a valid IR or a
one-line UsageError naming the file. Truncations, bit flips (biased towards the
flatbuffer's tables, which sit at the ends of the file) and random bytes."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _models import HYBRID_MODEL, INT8_MODELS, model_path, onnx_float_model
from arielml.errors import UsageError
from arielml.frontends.onnx import load_onnx
from arielml.frontends.tflite import load_tflite
from arielml.ir import verify
from arielml.passes import optimize

NAMES = INT8_MODELS + [HYBRID_MODEL]
pytestmark = pytest.mark.skipif(not model_path(NAMES[0]).exists(),
                                reason="MLPerf Tiny models not present")
_CACHE: dict[str, bytes] = {}


def _model(name: str) -> bytes:
    if name not in _CACHE:
        _CACHE[name] = model_path(name).read_bytes()
    return _CACHE[name]


def _flip(data: bytes, flips: list[tuple[int, int, bool]]) -> bytes:
    out = bytearray(data)
    for pos, bit, from_end in flips:
        # Half the flips land in the first/last 4 KiB, where tables and vectors live.
        i = (len(out) - 1 - pos % 4096) if from_end else pos % len(out)
        out[i] ^= 1 << bit
    return bytes(out)


truncated = st.builds(lambda n, f: _model(n)[:int(len(_model(n)) * f)],
                      st.sampled_from(NAMES), st.floats(0, 1))
flipped = st.builds(_flip, st.sampled_from(NAMES).map(_model),
                    st.lists(st.tuples(st.integers(0, 2**20), st.integers(0, 7), st.booleans()),
                             min_size=1, max_size=12))
random_bytes = st.binary(max_size=4096)
with_header = st.binary(max_size=4096).map(lambda b: b[:4].ljust(4, b"\0") + b"TFL3" + b[4:])
corrupt = st.one_of(truncated, flipped, flipped, random_bytes, with_header)


def _check(path: str, load, data: bytes) -> None:
    try:
        g = load(path, data)
    except UsageError as e:
        msg = str(e)
        assert "\n" not in msg and msg.startswith(path), msg
        return
    verify(g)
    try:
        verify(optimize(g))
    except UsageError as e:  # e.g. a flipped scale TFLM could not represent either
        assert "\n" not in str(e)


@settings(max_examples=200, deadline=2000, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(corrupt)
def test_corrupt_tflite_never_crashes(data):
    _check("fuzz.tflite", load_tflite, data)


@pytest.fixture(scope="module")
def onnx_bytes() -> bytes:
    return onnx_float_model().SerializeToString()


@settings(max_examples=60, deadline=2000, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.floats(0, 1), st.lists(st.tuples(st.integers(0, 2**16), st.integers(0, 7)),
                                 max_size=6), st.booleans())
def test_corrupt_onnx_never_crashes(onnx_bytes, frac, flips, truncate):
    data = bytearray(onnx_bytes[:max(1, int(len(onnx_bytes) * frac))] if truncate
                     else onnx_bytes)
    for pos, bit in flips:
        data[pos % len(data)] ^= 1 << bit
    _check("fuzz.onnx", load_onnx, bytes(data))


def test_cli_on_corrupt_files_exits_2_with_one_line(tmp_path):
    kws = _model("kws_ref_model.tflite")
    cases = {"trunc.tflite": kws[:700], "random.tflite": bytes(range(256)) * 4,
             "header.tflite": kws[:8] + b"\xff" * 64, "random.onnx": b"\x12\xff\x07abc"}
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        proc = subprocess.run([sys.executable, "-m", "arielml", "inspect", str(p)],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, (name, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {p}"), (name, proc.stderr)
        assert "Traceback" not in proc.stderr
