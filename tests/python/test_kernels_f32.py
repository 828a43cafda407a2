"""float32 kernels vs one-op TFLM float models: max relative error <= 1e-5.

float results may differ from TFLM by an ulp or two (TFLM calls the C library's exp and
tanh, and a compiler may contract a*b+c), so a relative tolerance is the right check
here; int8 stays bit-exact in the other files.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import _tflm_ops as tflm  # tests/python is on sys.path under pytest
from arielml.ir import quant as Q
from arielml.lower import host_kernels as K
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

SETTINGS = settings(max_examples=80, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
seeds = st.integers(0, 2**32 - 1)
acts = st.sampled_from(["NONE", "RELU", "RELU6", "RELU_N1_TO_1"])
paddings = st.sampled_from(["SAME", "VALID"])
RTOL = 1e-5


def assert_close(got, want):
    """max |got - want| / |want| <= RTOL, elementwise (an exact 0 must stay exact)."""
    assert got.shape == want.shape and got.dtype == want.dtype
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    assert np.all(err <= RTOL * np.abs(want.astype(np.float64))), float(np.max(err))


def randn(rng, shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


@SETTINGS
@given(seed=seeds, n=st.integers(1, 2), h=st.integers(1, 8), w=st.integers(1, 8),
       cin=st.integers(1, 4), mult=st.integers(1, 3), k=st.integers(1, 3), s=st.integers(1, 2),
       d=st.integers(1, 2), padding=paddings, act=acts, depthwise=st.booleans())
def test_conv_and_depthwise_f32(seed, n, h, w, cin, mult, k, s, d, padding, act, depthwise):
    out_hw, pad = K.window_geometry(padding, (h, w), (k, k), (s, s), (d, d))
    assume(min(out_hw) >= 1)
    rng = np.random.default_rng(seed)
    x = randn(rng, (n, h, w, cin))
    cout = cin * mult if depthwise else mult + 1
    wt = randn(rng, (1, k, k, cout) if depthwise else (cout, k, k, cin))
    bias = randn(rng, (cout,))
    want = tflm.conv2d_f32(x, wt, bias, (n, *out_hw, cout), (s, s), (d, d), padding, act,
                           mult if depthwise else None)
    got = K.conv2d_f32(x, wt, bias, out_hw=out_hw, stride=(s, s), dilation=(d, d), pad=pad,
                       act=Q.float_activation_range(act), depthwise=depthwise,
                       depth_multiplier=mult)
    assert_close(got, want)


@SETTINGS
@given(seed=seeds, b=st.integers(1, 4), depth=st.integers(1, 40), u=st.integers(1, 10),
       act=acts, with_bias=st.booleans())
def test_fully_connected_f32(seed, b, depth, u, act, with_bias):
    rng = np.random.default_rng(seed)
    x, wt = randn(rng, (b, depth)), randn(rng, (u, depth))
    bias = randn(rng, (u,)) if with_bias else None
    want = tflm.fully_connected_f32(x, wt, bias, act)
    got = K.fully_connected_f32(x, wt, bias, act=Q.float_activation_range(act))
    assert_close(got, want)


@SETTINGS
@given(seed=seeds, kind=st.sampled_from(["avg", "max"]), h=st.integers(1, 8),
       w=st.integers(1, 8), c=st.integers(1, 4), f=st.integers(1, 3), s=st.integers(1, 3),
       padding=paddings, act=acts)
def test_pool_f32(seed, kind, h, w, c, f, s, padding, act):
    out_hw, pad = K.window_geometry(padding, (h, w), (f, f), (s, s))
    assume(min(out_hw) >= 1)
    x = randn(np.random.default_rng(seed), (1, h, w, c), 3.0)
    want = tflm.pool(kind, x, None, (f, f), (s, s), padding, act, (1, *out_hw, c), np.float32)
    got = K.pool(kind, x, filter_hw=(f, f), out_hw=out_hw, stride=(s, s), pad=pad,
                 act=Q.float_activation_range(act))
    assert_close(got, want)


@st.composite
def broadcast_pair(draw):
    out = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    def maybe_shrink():
        if draw(st.booleans()):
            return tuple(out)
        s = [d if draw(st.booleans()) else 1 for d in out]
        return tuple(s[draw(st.integers(0, len(s) - 1)):])
    return maybe_shrink(), maybe_shrink()


@SETTINGS
@given(seed=seeds, kind=st.sampled_from(["add", "sub", "mul"]), shapes=broadcast_pair(), act=acts)
def test_binary_f32(seed, kind, shapes, act):
    rng = np.random.default_rng(seed)
    a, b = randn(rng, shapes[0], 2.0), randn(rng, shapes[1], 2.0)
    out_shape = np.broadcast_shapes(a.shape, b.shape)
    want = tflm.binary_f32(kind, a, b, out_shape, act)
    got = K.binary_f32(kind, a, b, act=Q.float_activation_range(act))
    assert_close(got, want)


@SETTINGS
@given(seed=seeds, rows=st.integers(1, 5), depth=st.integers(1, 40),
       beta=st.sampled_from([1.0, 0.5, 2.0, 1.7]), spread=st.floats(0.1, 20.0))
def test_softmax_f32(seed, rows, depth, beta, spread):
    x = randn(np.random.default_rng(seed), (rows, depth), spread)
    assert_close(K.softmax_f32(x, beta=beta), tflm.softmax_f32(x, beta))


@settings(SETTINGS, max_examples=60)
@given(seed=seeds, shape=st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple),
       op=st.sampled_from(["logistic", "tanh", "hard_swish"]), spread=st.floats(0.01, 30.0))
def test_unary_f32(seed, shape, op, spread):
    x = randn(np.random.default_rng(seed), shape, spread)
    x.flat[0] = 0.0
    code = {"logistic": fb.BuiltinOperator.LOGISTIC, "tanh": fb.BuiltinOperator.TANH,
            "hard_swish": fb.BuiltinOperator.HARD_SWISH}[op]
    want = tflm.unary(code, x, None, None, out_dtype=np.float32)
    assert_close(K.unary_f32(op, x), want)
