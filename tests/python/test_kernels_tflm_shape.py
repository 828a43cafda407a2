"""MEAN, PAD, CONCATENATION, HARD_SWISH and the copy ops (RESHAPE, TRANSPOSE,
STRIDED_SLICE, SPLIT) vs one-op TFLM models: int8 bytes compared exactly, and the copy
ops' float32 versions exactly too (a copy has no rounding)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings, strategies as st

import _tflm_ops as tflm  # tests/python is on sys.path under pytest
from arielml.ir import quant as Q
from arielml.lower import host_kernels as K
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

SETTINGS = settings(max_examples=100, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))
seeds = st.integers(0, 2**32 - 1)
dtypes = st.sampled_from([np.int8, np.float32])


def shapes(max_rank=4, min_rank=1, hi=5):
    return st.lists(st.integers(1, hi), min_size=min_rank, max_size=max_rank).map(tuple)


def f32(x) -> float:
    return float(np.float32(x))


def rand_q(rng, lo=-8.0, hi=-1.0):
    return f32(2.0 ** rng.uniform(lo, hi)), int(rng.integers(-128, 128))


def rand_x(rng, shape, dtype):
    if dtype == np.int8:
        return rng.integers(-128, 128, size=shape).astype(np.int8)
    return rng.standard_normal(shape).astype(np.float32)


@st.composite
def mean_case(draw):
    """Half the draws are the common 4-D mean over H, W with keep_dims."""
    if draw(st.booleans()):
        return draw(shapes(4, 4, 7)), [1, 2] if draw(st.booleans()) else [2, 1], True
    shape = draw(shapes(4))
    axes = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=3))
    return shape, axes, draw(st.booleans())


@SETTINGS
@given(seed=seeds, case=mean_case(), dtype=dtypes)
def test_mean_matches_tflm(seed, case, dtype):
    shape, axes, keep = case
    rng = np.random.default_rng(seed)
    x = rand_x(rng, shape, dtype)
    red = {a % len(shape) for a in axes}
    count = int(np.prod([shape[a] for a in red]))
    out_shape = [1 if d in red else n for d, n in enumerate(shape)] if keep else \
        [n for d, n in enumerate(shape) if d not in red]
    if dtype == np.float32:
        want = tflm.mean(x, None, None, axes, keep, out_shape)
        got = K.mean(x, axes, keep_dims=keep)
        # Same summation order as TFLM: relative error 1e-5 at most (in practice exact).
        assert got.shape == want.shape
        assert np.all(np.abs(got - want) <= 1e-5 * np.abs(want))
        return
    xq = rand_q(rng)
    yq = (f32(xq[0] * 2.0 ** rng.uniform(-2, 1)), int(rng.integers(-128, 128)))
    want = tflm.mean(x, xq, yq, axes, keep, out_shape)
    got = K.mean(x, axes, keep_dims=keep, params=Q.mean_params(*xq, *yq, count))
    assert got.shape == want.shape and np.array_equal(got, want)


@SETTINGS
@given(seed=seeds, shape=shapes(5), dtype=dtypes, data=st.data())
def test_pad_matches_tflm(seed, shape, dtype, data):
    rng = np.random.default_rng(seed)
    x = rand_x(rng, shape, dtype)
    pads = [[data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))] for _ in shape]
    q = None if dtype == np.float32 else rand_q(rng)
    out_shape = [d + a + b for d, (a, b) in zip(shape, pads)]
    want = tflm.pad(x, q, pads, out_shape)
    got = K.pad(x, pads, 0 if q is None else q[1])
    assert np.array_equal(got, want)


@SETTINGS
@given(seed=seeds, shape=shapes(4), n=st.integers(1, 4), dtype=dtypes, data=st.data())
def test_concatenation_matches_tflm(seed, shape, n, dtype, data):
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    xs = []
    for _ in range(n):
        s = list(shape)
        s[axis] = data.draw(st.integers(1, 4))
        xs.append(rand_x(rng, s, dtype))
    q = None if dtype == np.float32 else rand_q(rng)
    out_shape = np.concatenate(xs, axis).shape
    want = tflm.concatenation(xs, [q] * n, q, axis, out_shape)
    assert np.array_equal(K.concatenation(xs, axis), want)


@settings(SETTINGS, max_examples=60)
@given(seed=seeds, shape=shapes(4), n=st.integers(1, 3), data=st.data())
def test_concatenation_requantizes_like_quantize_ops(seed, shape, n, data):
    """TFLM's int8 concat refuses inputs quantized unlike the output (see the next test);
    with requant params the kernel equals TFLM's QUANTIZE ops followed by the concat."""
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(0, len(shape) - 1))
    yq = rand_q(rng, -6, -2)
    xs, qs = [], []
    for _ in range(n):
        s = list(shape)
        s[axis] = data.draw(st.integers(1, 3))
        xs.append(rand_x(rng, s, np.int8))
        qs.append(yq if data.draw(st.booleans()) else
                  (f32(yq[0] * 2.0 ** rng.uniform(-2, 2)), int(rng.integers(-128, 128))))
    out_shape = np.concatenate(xs, axis).shape
    want = tflm.requantize_then_concat(xs, qs, yq, axis, out_shape)
    requant = [None if q == yq else Q.requantize_op_params(*q, *yq) for q in qs]
    assert np.array_equal(K.concatenation(xs, axis, requant=requant), want)


def test_tflm_int8_concatenation_rejects_mixed_scales():
    x = np.zeros((1, 2), np.int8)
    try:
        tflm.concatenation([x, x], [(0.1, 0), (0.2, 0)], (0.2, 0), 1, (1, 4))
    except Exception:  # noqa: BLE001 - TFLM reports Prepare failures as RuntimeError
        return
    raise AssertionError("TFLM accepted an int8 concat with mixed scales")


@SETTINGS
@given(seed=seeds, shape=shapes(4))
def test_hard_swish_matches_tflm(seed, shape):
    rng = np.random.default_rng(seed)
    x = rand_x(rng, shape, np.int8)
    # Input scales from 2^-10 to 2^-1 take the reluish multiplier's exponent through
    # negative, zero and positive (its three code paths).
    xq = rand_q(rng, -10, -1)
    yq = (f32(xq[0] * 2.0 ** rng.uniform(-1.5, 1.5)), int(rng.integers(-128, 128)))
    want = tflm.unary(fb.BuiltinOperator.HARD_SWISH, x, xq, yq)
    got = K.unary_s8("hard_swish", x, Q.hard_swish_params(*xq, *yq))
    assert np.array_equal(got, want)


@SETTINGS
@given(seed=seeds, shape=shapes(4), dtype=dtypes, data=st.data())
def test_reshape_and_transpose_match_tflm(seed, shape, dtype, data):
    rng = np.random.default_rng(seed)
    x = rand_x(rng, shape, dtype)
    q = None if dtype == np.float32 else rand_q(rng)
    factors = [int(f) for d in shape for f in _factors(d)]
    cut = sorted(data.draw(st.lists(st.integers(0, len(factors)), max_size=3)))
    new = [int(np.prod(factors[a:b])) for a, b in zip([0] + cut, cut + [len(factors)])]
    assert np.array_equal(K.reshape(x, new), tflm.reshape(x, q, new))
    xt = rand_x(rng, data.draw(shapes(5)), dtype)
    perm = data.draw(st.permutations(range(xt.ndim)))
    assert np.array_equal(K.transpose(xt, perm), tflm.transpose(xt, q, perm))


def _factors(n: int):
    out, p = [], 2
    while n > 1:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    return out


@settings(SETTINGS, max_examples=150)
@given(seed=seeds, shape=shapes(4, hi=6), dtype=dtypes, data=st.data())
def test_strided_slice_matches_tflm(seed, shape, dtype, data):
    rank = len(shape)
    idx = [st.integers(-d - 2, d + 2) for d in shape]
    begin = [data.draw(i) for i in idx]
    end = [data.draw(i) for i in idx]
    strides = [data.draw(st.sampled_from([1, 1, 2, 3, -1, -2])) for _ in shape]
    masks = [data.draw(st.integers(0, 2**rank - 1)) for _ in range(3)]
    try:
        g = Q.strided_slice_params(shape, begin, end, strides, *masks)
    except ValueError:  # an out-of-range shrunk index: an invalid model
        assume(False)
    assume(min(g["kernel_shape"]) >= 1)
    rng = np.random.default_rng(seed)
    x = rand_x(rng, shape, dtype)
    q = None if dtype == np.float32 else rand_q(rng)
    want = tflm.strided_slice(x, q, begin, end, strides, *masks, g["out_shape"])
    got = K.strided_slice(x, begin, end, strides, begin_mask=masks[0], end_mask=masks[1],
                          shrink_axis_mask=masks[2])
    assert got.shape == want.shape and np.array_equal(got, want)


@SETTINGS
@given(seed=seeds, shape=shapes(4), num=st.integers(1, 3), dtype=dtypes, data=st.data())
def test_split_matches_tflm(seed, shape, num, dtype, data):
    axis = data.draw(st.integers(0, len(shape) - 1))
    shape = list(shape)
    shape[axis] *= num
    rng = np.random.default_rng(seed)
    x = rand_x(rng, shape, dtype)
    q = None if dtype == np.float32 else rand_q(rng)
    wants = tflm.split(x, q, axis, num)
    size = shape[axis] // num
    for i, want in enumerate(wants):
        assert np.array_equal(K.split(x, axis, i * size, size), want)
