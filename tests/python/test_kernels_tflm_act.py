"""Elementwise int8 activations and (de)quantization vs TFLM, bytes compared exactly."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import _tflm_ops as tflm  # tests/python is on sys.path under pytest
from arielml.ir import quant as Q
from arielml.lower import host_kernels as K
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

SETTINGS = settings(max_examples=100, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple)


def f32(x) -> float:
    return float(np.float32(x))


def case(seed, shape, lo=-8.0, hi=0.0):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, size=shape).astype(np.int8)
    return rng, x, (f32(2.0 ** rng.uniform(lo, hi)), int(rng.integers(-128, 128)))


@SETTINGS
@given(seed=seeds, shape=shapes)
def test_logistic_matches_tflm(seed, shape):
    _, x, xq = case(seed, shape, -7, -1)
    want = tflm.unary(fb.BuiltinOperator.LOGISTIC, x, xq, (1.0 / 256, -128))
    got = K.unary_s8("logistic", x, Q.sigmoid_params(*xq))
    assert np.array_equal(got, want)


@SETTINGS
@given(seed=seeds, shape=shapes)
def test_tanh_matches_tflm(seed, shape):
    _, x, xq = case(seed, shape, -7, -1)
    want = tflm.unary(fb.BuiltinOperator.TANH, x, xq, (1.0 / 128, 0))
    got = K.unary_s8("tanh", x, Q.sigmoid_params(*xq))
    assert np.array_equal(got, want)


@SETTINGS
@given(seed=seeds, shape=shapes, alpha=st.sampled_from([0.1, 0.2, 0.01, 0.3333, -0.5, 1.5]))
def test_leaky_relu_matches_tflm(seed, shape, alpha):
    rng, x, xq = case(seed, shape, -6, -1)
    yq = (f32(xq[0] * 2.0 ** rng.uniform(-1, 1)), int(rng.integers(-128, 128)))
    opts = fb.LeakyReluOptionsT()
    opts.alpha = alpha
    want = tflm.unary(fb.BuiltinOperator.LEAKY_RELU, x, xq, yq, fb.BuiltinOptions.LeakyReluOptions, opts)
    got = K.unary_s8("leaky_relu", x, Q.leaky_relu_params(xq[0], xq[1], alpha, *yq))
    assert np.array_equal(got, want)


@SETTINGS
@given(seed=seeds, shape=shapes)
def test_requantize_matches_tflm(seed, shape):
    rng, x, xq = case(seed, shape)
    yq = (f32(xq[0] * 2.0 ** rng.uniform(-3, 3)), int(rng.integers(-128, 128)))
    want = tflm.unary(fb.BuiltinOperator.QUANTIZE, x, xq, yq)
    got = K.unary_s8("requantize", x, Q.requantize_op_params(xq[0], xq[1], *yq))
    assert np.array_equal(got, want)


@SETTINGS
@given(seed=seeds, shape=shapes)
def test_quantize_and_dequantize_match_tflm(seed, shape):
    rng, x, q = case(seed, shape)
    xf = (rng.standard_normal(shape) * q[0] * 60).astype(np.float32)
    xf.flat[0] = q[0] * 2.5  # a tie: rounds away from zero
    want = tflm.unary(fb.BuiltinOperator.QUANTIZE, xf, None, q)
    assert np.array_equal(K.quantize_f32_s8(xf, *q), want)
    want_f = tflm.unary(fb.BuiltinOperator.DEQUANTIZE, x, q, None, out_dtype=np.float32)
    assert np.array_equal(K.dequantize_s8_f32(x, *q), want_f)
