"""The packed-weight kernels (firmware/kernels/src/gemm) vs TFLM, for every kernel family.

Weights are packed and the bias folded by the compiler's own packer
(arielml.lower.packing); each family's micro-kernel runs on the host (the DSP family on
the plain-Rust models of SXTB16/SMLAD). Both requantization forms are exercised: the short
one where the packer proves the bound, the exact one where it cannot (huge biases).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from arielml.ir import quant as Q
from arielml.lower import host_kernels as K
from arielml.lower import packing

import _tflm_ops as tflm
from test_kernels_tflm import SETTINGS, acts, conv_case, paddings, rand_i8, rand_q, seeds, f32

families = st.sampled_from(packing.FAMILIES)


@SETTINGS
@given(seed=seeds, family=families, n=st.integers(1, 2), h=st.integers(1, 9), w=st.integers(1, 9),
       cin=st.integers(1, 9), cout=st.integers(1, 9), kh=st.integers(1, 3), kw=st.integers(1, 3),
       sh=st.integers(1, 3), sw=st.integers(1, 3), dh=st.integers(1, 2), dw=st.integers(1, 2),
       padding=paddings, act=acts, huge_bias=st.booleans())
def test_gemm_conv_matches_tflm(seed, family, n, h, w, cin, cout, kh, kw, sh, sw, dh, dw, padding, act,
                                huge_bias):
    out_hw, pad = K.window_geometry(padding, (h, w), (kh, kw), (sh, sw), (dh, dw))
    if min(out_hw) < 1:
        return
    rng = np.random.default_rng(seed)
    x, wt = rand_i8(rng, (n, h, w, cin)), rand_i8(rng, (cout, kh, kw, cin))
    wt[wt == -128] = -127
    xq = rand_q(rng)
    wscales = [f32(2.0 ** rng.uniform(-9, -4)) for _ in range(cout)]
    bias = rng.integers(-3000, 3000, size=cout).astype(np.int32)
    if huge_bias:  # beyond the short requantization's bound, without int32 overflow
        bias += (rng.choice([-1, 1], size=cout) * (2**30 + 2**20)).astype(np.int32)
    yq = conv_case(rng, kh * kw * cin, wscales, xq)
    want = tflm.conv2d(x, xq, wt, wscales, bias, yq, (n, *out_hw, cout), (sh, sw), (dh, dw), padding, act)
    mult, shift = Q.conv_per_channel_multipliers(xq[0], wscales, yq[0], cout)
    plan = packing.plan_gemm(wt.reshape(cout, -1), bias, -xq[1], shift, family, "conv")
    assert not (huge_bias and plan.fast_requant)
    direct = kh == kw == 1 and pad == (0, 0) and cin % 4 == 0
    for d in {False, direct}:
        got = K.gemm_conv2d_s8(x, plan, mult, shift, filter_shape=wt.shape, out_hw=out_hw, stride=(sh, sw),
                               dilation=(dh, dw), pad=pad, input_offset=-xq[1], output_offset=yq[1],
                               act=Q.activation_range(act, *yq), direct=d)
        assert np.array_equal(got, want)


@SETTINGS
@given(seed=seeds, family=families, b=st.integers(1, 4), d=st.integers(1, 40), u=st.integers(1, 12),
       act=acts, per_channel=st.booleans(), with_bias=st.booleans(), shape=st.sampled_from(["fc", "conv"]))
def test_gemm_fully_connected_matches_tflm(seed, family, b, d, u, act, per_channel, with_bias, shape):
    rng = np.random.default_rng(seed)
    x, wt = rand_i8(rng, (b, d)), rand_i8(rng, (u, d))
    wt[wt == -128] = -127
    xq = rand_q(rng)
    wscales = [f32(2.0 ** rng.uniform(-9, -4)) for _ in range(u if per_channel else 1)]
    bias = rng.integers(-3000, 3000, size=u).astype(np.int32) if with_bias else None
    yq = conv_case(rng, d, wscales, xq)
    want = tflm.fully_connected(x, xq, wt, wscales, bias, yq, act)
    m, s = Q.fully_connected_multipliers(xq[0], wscales, yq[0], u)
    plan = packing.plan_gemm(wt, bias, -xq[1], s, family, shape)
    got = K.gemm_fully_connected_s8(x, plan, m, s, units=u, output_offset=yq[1], act=Q.activation_range(act, *yq))
    assert np.array_equal(got, want)


@pytest.mark.parametrize("family", packing.FAMILIES)
def test_gemm_tiles_assemble_the_whole_output(family):
    rng = np.random.default_rng(3)
    x, wt = rand_i8(rng, (1, 7, 5, 8)), rand_i8(rng, (11, 3, 3, 8))
    bias = rng.integers(-3000, 3000, size=11).astype(np.int32)
    mult, shift = np.full(11, 1 << 30, np.int32), np.full(11, -9, np.int32)
    plan = packing.plan_gemm(wt.reshape(11, -1), bias, 5, shift, family, "conv")
    kw = dict(filter_shape=wt.shape, out_hw=(7, 5), pad=(1, 1), input_offset=5, output_offset=-3)
    full = K.gemm_conv2d_s8(x, plan, mult, shift, **kw)
    out = np.zeros_like(full)
    for tile in [(0, 3, 0, 5), (0, 3, 5, 11), (3, 7, 0, 3), (3, 7, 3, 11)]:
        out = K.gemm_conv2d_s8(x, plan, mult, shift, tile=tile, out=out, **kw)
    assert np.array_equal(out, full)


@SETTINGS
@given(seed=seeds, family=families, n=st.integers(1, 2), h=st.integers(1, 9), w=st.integers(1, 9),
       c=st.integers(1, 11), kh=st.integers(1, 5), kw=st.integers(1, 3), sh=st.integers(1, 2),
       sw=st.integers(1, 2), dh=st.integers(1, 2), dw=st.integers(1, 2), padding=paddings, act=acts)
def test_gemm_depthwise_matches_tflm(seed, family, n, h, w, c, kh, kw, sh, sw, dh, dw, padding, act):
    out_hw, pad = K.window_geometry(padding, (h, w), (kh, kw), (sh, sw), (dh, dw))
    if min(out_hw) < 1:
        return
    rng = np.random.default_rng(seed)
    x, wt = rand_i8(rng, (n, h, w, c)), rand_i8(rng, (1, kh, kw, c))
    wt[wt == -128] = -127
    xq = rand_q(rng)
    wscales = [f32(2.0 ** rng.uniform(-9, -4)) for _ in range(c)]
    bias = rng.integers(-3000, 3000, size=c).astype(np.int32)
    yq = conv_case(rng, kh * kw, wscales, xq)
    want = tflm.depthwise(x, xq, wt, wscales, bias, yq, (n, *out_hw, c), (sh, sw), (dh, dw), padding, act, 1)
    m, s = Q.conv_per_channel_multipliers(xq[0], wscales, yq[0], c)
    plan = packing.plan_depthwise(wt, bias, -xq[1], s, family)
    got = K.gemm_depthwise_s8(x, plan, m, s, filter_shape=wt.shape, out_hw=out_hw, stride=(sh, sw),
                              dilation=(dh, dw), pad=pad, input_offset=-xq[1], output_offset=yq[1],
                              act=Q.activation_range(act, *yq))
    assert np.array_equal(got, want)
