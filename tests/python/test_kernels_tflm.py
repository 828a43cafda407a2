"""Kernels vs TFLM: one-op int8 models, random shapes and quantization, bytes compared exactly.

Each example draws a geometry and a seed; arrays come from numpy with that seed (much
faster than drawing them element by element). TFLM's own Prepare computes the multipliers
from the model's float scales, the kernels get them from `arielml.ir.quant`, so these tests
also check quant.py against TFLM.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from arielml.ir import quant as Q
from arielml.lower import host_kernels as K

import _tflm_ops as tflm  # noqa: E402  (tests/python is on sys.path under pytest)

SETTINGS = settings(max_examples=150, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))

acts = st.sampled_from(["NONE", "RELU", "RELU6", "RELU_N1_TO_1"])
paddings = st.sampled_from(["SAME", "VALID"])
seeds = st.integers(0, 2**32 - 1)


def f32(x) -> float:
    return float(np.float32(x))


def rand_q(rng, lo=-9.0, hi=-2.0):
    """A (scale, zero point) pair with a power-of-two-ish but not exact scale."""
    return f32(2.0 ** rng.uniform(lo, hi)), int(rng.integers(-128, 128))


def rand_i8(rng, shape):
    return rng.integers(-128, 128, size=shape, dtype=np.int64).astype(np.int8)


def conv_case(rng, depth_k: int, wscales, xq):
    """An output quantization that keeps results mostly unsaturated."""
    typical = xq[0] * float(np.median(wscales)) * 150.0 * np.sqrt(depth_k)
    return f32(typical * 2.0 ** rng.uniform(-1.5, 1.5)), int(rng.integers(-100, 100))


@SETTINGS
@given(seed=seeds, n=st.integers(1, 2), h=st.integers(1, 9), w=st.integers(1, 9),
       cin=st.integers(1, 5), cout=st.integers(1, 5), kh=st.integers(1, 3), kw=st.integers(1, 3),
       sh=st.integers(1, 3), sw=st.integers(1, 3), dh=st.integers(1, 2), dw=st.integers(1, 2),
       padding=paddings, act=acts, per_channel=st.booleans())
def test_conv2d_matches_tflm(seed, n, h, w, cin, cout, kh, kw, sh, sw, dh, dw, padding, act,
                             per_channel):
    out_hw, pad = K.window_geometry(padding, (h, w), (kh, kw), (sh, sw), (dh, dw))
    assume(min(out_hw) >= 1)
    rng = np.random.default_rng(seed)
    x, wt = rand_i8(rng, (n, h, w, cin)), rand_i8(rng, (cout, kh, kw, cin))
    wt[wt == -128] = -127  # TFLM filters are symmetric int8
    xq = rand_q(rng)
    wscales = [f32(2.0 ** rng.uniform(-9, -4)) for _ in range(cout if per_channel else 1)] * (1 if per_channel else cout)
    bias = rng.integers(-3000, 3000, size=cout).astype(np.int32)
    yq = conv_case(rng, kh * kw * cin, wscales, xq)
    want = tflm.conv2d(x, xq, wt, wscales, bias, yq, (n, *out_hw, cout), (sh, sw), (dh, dw), padding, act)
    mult, shift = Q.conv_per_channel_multipliers(xq[0], wscales, yq[0], cout)
    got = K.conv2d_s8(x, wt, bias, mult, shift, out_hw=out_hw, stride=(sh, sw), dilation=(dh, dw),
                      pad=pad, input_offset=-xq[1], output_offset=yq[1],
                      act=Q.activation_range(act, *yq))
    assert np.array_equal(got, want)


@SETTINGS
@given(seed=seeds, n=st.integers(1, 2), h=st.integers(1, 9), w=st.integers(1, 9),
       cin=st.integers(1, 4), mult_=st.integers(1, 3), kh=st.integers(1, 3), kw=st.integers(1, 3),
       sh=st.integers(1, 2), sw=st.integers(1, 2), dh=st.integers(1, 2), dw=st.integers(1, 2),
       padding=paddings, act=acts)
def test_depthwise_matches_tflm(seed, n, h, w, cin, mult_, kh, kw, sh, sw, dh, dw, padding, act):
    out_hw, pad = K.window_geometry(padding, (h, w), (kh, kw), (sh, sw), (dh, dw))
    assume(min(out_hw) >= 1)
    rng = np.random.default_rng(seed)
    cout = cin * mult_
    x, wt = rand_i8(rng, (n, h, w, cin)), rand_i8(rng, (1, kh, kw, cout))
    wt[wt == -128] = -127
    xq = rand_q(rng)
    wscales = [f32(2.0 ** rng.uniform(-9, -4)) for _ in range(cout)]
    bias = rng.integers(-3000, 3000, size=cout).astype(np.int32)
    yq = conv_case(rng, kh * kw, wscales, xq)
    want = tflm.depthwise(x, xq, wt, wscales, bias, yq, (n, *out_hw, cout), (sh, sw), (dh, dw),
                          padding, act, mult_)
    m, s = Q.conv_per_channel_multipliers(xq[0], wscales, yq[0], cout)
    got = K.depthwise_conv2d_s8(x, wt, bias, m, s, out_hw=out_hw, depth_multiplier=mult_,
                                stride=(sh, sw), dilation=(dh, dw), pad=pad, input_offset=-xq[1],
                                output_offset=yq[1], act=Q.activation_range(act, *yq))
    assert np.array_equal(got, want)


@SETTINGS
@given(seed=seeds, b=st.integers(1, 4), d=st.integers(1, 40), u=st.integers(1, 12),
       act=acts, per_channel=st.booleans(), with_bias=st.booleans())
def test_fully_connected_matches_tflm(seed, b, d, u, act, per_channel, with_bias):
    rng = np.random.default_rng(seed)
    x, wt = rand_i8(rng, (b, d)), rand_i8(rng, (u, d))
    wt[wt == -128] = -127
    xq = rand_q(rng)
    wscales = [f32(2.0 ** rng.uniform(-9, -4)) for _ in range(u if per_channel else 1)]
    bias = rng.integers(-3000, 3000, size=u).astype(np.int32) if with_bias else None
    yq = conv_case(rng, d, wscales, xq)
    want = tflm.fully_connected(x, xq, wt, wscales, bias, yq, act)
    m, s = Q.fully_connected_multipliers(xq[0], wscales, yq[0], u)
    got = K.fully_connected_s8(x, wt, bias, m, s, input_offset=-xq[1], output_offset=yq[1],
                               act=Q.activation_range(act, *yq))
    assert np.array_equal(got, want)


@SETTINGS
@given(seed=seeds, kind=st.sampled_from(["avg", "max"]), n=st.integers(1, 2),
       h=st.integers(1, 9), w=st.integers(1, 9), c=st.integers(1, 4), fh=st.integers(1, 4),
       fw=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3), padding=paddings, act=acts)
def test_pool_matches_tflm(seed, kind, n, h, w, c, fh, fw, sh, sw, padding, act):
    out_hw, pad = K.window_geometry(padding, (h, w), (fh, fw), (sh, sw))
    assume(min(out_hw) >= 1)
    rng = np.random.default_rng(seed)
    x = rand_i8(rng, (n, h, w, c))
    q = rand_q(rng, -6, -1)
    want = tflm.pool(kind, x, q, (fh, fw), (sh, sw), padding, act, (n, *out_hw, c))
    got = K.pool(kind, x, filter_hw=(fh, fw), out_hw=out_hw, stride=(sh, sw), pad=pad,
                 act=Q.activation_range(act, *q))
    assert np.array_equal(got, want)


@st.composite
def broadcast_pair(draw):
    """Two shapes of rank <= 4 that broadcast, like real models' bias/scale adds."""
    rank = draw(st.integers(1, 4))
    out = [draw(st.integers(1, 5)) for _ in range(rank)]
    def shrink(shape):
        s = [d if draw(st.booleans()) else 1 for d in shape]
        drop = draw(st.integers(0, len(s) - 1))
        return tuple(s[drop:])
    a = tuple(out) if draw(st.booleans()) else shrink(out)
    b = shrink(out) if draw(st.booleans()) else tuple(out)
    return a, b


def arithmetic_case(kind, rng, a_shape, b_shape, act):
    a, b = rand_i8(rng, a_shape), rand_i8(rng, b_shape)
    aq, bq = rand_q(rng, -7, -2), rand_q(rng, -7, -2)
    if kind == "mul":
        yq = (f32(aq[0] * bq[0] * 128 * 2.0 ** rng.uniform(-2, 2)), int(rng.integers(-50, 50)))
        m, s = Q.mul_params(aq[0], bq[0], yq[0])
        params = dict(output_multiplier=m, output_shift=s)
    else:
        yq = (f32(max(aq[0], bq[0]) * 2.0 ** rng.uniform(-1, 1.5)), int(rng.integers(-50, 50)))
        params = (Q.sub_params if kind == "sub" else Q.add_params)(aq[0], bq[0], yq[0])
    params.update(input1_offset=-aq[1], input2_offset=-bq[1], output_offset=yq[1])
    out_shape = np.broadcast_shapes(a_shape, b_shape)
    want = tflm.binary(kind, a, aq, b, bq, yq, out_shape, act)
    got = K.binary_s8(kind, a, b, params, act=Q.activation_range(act, *yq))
    return got, want


@SETTINGS
@given(seed=seeds, shapes=broadcast_pair(), act=acts)
def test_add_matches_tflm(seed, shapes, act):
    got, want = arithmetic_case("add", np.random.default_rng(seed), *shapes, act)
    assert np.array_equal(got, want)


@settings(SETTINGS, max_examples=100)
@given(seed=seeds, shapes=broadcast_pair(), act=acts)
def test_sub_matches_tflm(seed, shapes, act):
    got, want = arithmetic_case("sub", np.random.default_rng(seed), *shapes, act)
    assert np.array_equal(got, want)


@settings(SETTINGS, max_examples=100)
@given(seed=seeds, shapes=broadcast_pair(), act=acts)
def test_mul_matches_tflm(seed, shapes, act):
    got, want = arithmetic_case("mul", np.random.default_rng(seed), *shapes, act)
    assert np.array_equal(got, want)


@settings(SETTINGS, max_examples=200)
@given(seed=seeds, rows=st.integers(1, 6), depth=st.integers(1, 40),
       beta=st.sampled_from([1.0, 0.5, 2.0, 0.25, 1.7]), log_scale=st.floats(-8, 0))
def test_softmax_matches_tflm(seed, rows, depth, beta, log_scale):
    rng = np.random.default_rng(seed)
    x = rand_i8(rng, (rows, depth))
    xq = (f32(2.0 ** log_scale), int(rng.integers(-128, 128)))
    want = tflm.softmax(x, xq, beta)
    p = Q.softmax_params(beta, xq[0])
    got = K.softmax_s8(x, **p)
    assert np.array_equal(got, want)
