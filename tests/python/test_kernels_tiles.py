"""Tiled == untiled: every row split and every channel split of each kernel's output,
assembled from two tiles written into one buffer, and every 2-D grid of four row x
channel tiles (the partitioner's 2-D tiling), equals the one-call result."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

from arielml.lower import host_kernels as K

SETTINGS = settings(max_examples=25, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


def splits(rows: int, chans: int):
    """Disjoint tiles covering the output: two for every row cut and every channel cut,
    four for every row cut x channel cut."""
    for r in range(rows + 1):
        yield (0, r, 0, chans), (r, rows, 0, chans)
    for c in range(chans + 1):
        yield (0, rows, 0, c), (0, rows, c, chans)
    for r in range(1, rows):
        for c in range(1, chans):
            yield (0, r, 0, c), (0, r, c, chans), (r, rows, 0, c), (r, rows, c, chans)


def check_all_splits(run, rows: int, chans: int, out_like):
    full = run(None, None)
    for tiles in splits(rows, chans):
        part = np.full_like(out_like, 77 if out_like.dtype == np.int8 else np.nan)
        for t in tiles:
            part = run(t, part)
        assert np.array_equal(part, full), tiles


def i8(rng, shape):
    return rng.integers(-128, 128, size=shape).astype(np.int8)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), h=st.integers(1, 7), w=st.integers(1, 6),
       c=st.integers(1, 4), k=st.integers(1, 3), s=st.integers(1, 2), dm=st.integers(1, 2))
def test_conv_like_tiles(seed, h, w, c, k, s, dm):
    rng = np.random.default_rng(seed)
    x = i8(rng, (2, h, w, c))
    out_hw, pad = K.window_geometry("SAME", (h, w), (k, k), (s, s))
    oc = c + 1
    wt, b = i8(rng, (oc, k, k, c)), rng.integers(-500, 500, oc)
    m, sh = rng.integers(1 << 30, (1 << 31) - 1, oc), rng.integers(-9, -5, oc)
    common = dict(out_hw=out_hw, stride=(s, s), pad=pad, input_offset=3, output_offset=-2)
    conv = lambda t, o: K.conv2d_s8(x, wt, b, m, sh, tile=t, out=o, **common)
    check_all_splits(conv, out_hw[0], oc, conv(None, None))
    dc = c * dm
    wd, bd = i8(rng, (1, k, k, dc)), rng.integers(-500, 500, dc)
    md, sd = rng.integers(1 << 30, (1 << 31) - 1, dc), rng.integers(-8, -4, dc)
    dw = lambda t, o: K.depthwise_conv2d_s8(x, wd, bd, md, sd, depth_multiplier=dm, tile=t,
                                            out=o, **common)
    check_all_splits(dw, out_hw[0], dc, dw(None, None))
    for kind in ("avg", "max"):
        pl = lambda t, o: K.pool(kind, x, filter_hw=(k, k), out_hw=out_hw, stride=(s, s),
                                 pad=pad, tile=t, out=o)
        check_all_splits(pl, out_hw[0], c, pl(None, None))
    xf = rng.standard_normal(x.shape).astype(np.float32)
    wf = rng.standard_normal(wt.shape).astype(np.float32)
    cf = lambda t, o: K.conv2d_f32(xf, wf, None, out_hw=out_hw, stride=(s, s), pad=pad,
                                   tile=t, out=o)
    check_all_splits(cf, out_hw[0], oc, cf(None, None))


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), b=st.integers(1, 5), d=st.integers(1, 20),
       u=st.integers(1, 8))
def test_fully_connected_and_softmax_tiles(seed, b, d, u):
    rng = np.random.default_rng(seed)
    x, wt = i8(rng, (b, d)), i8(rng, (u, d))
    m, sh = rng.integers(1 << 30, (1 << 31) - 1, u), rng.integers(-9, -5, u)
    fc = lambda t, o: K.fully_connected_s8(x, wt, None, m, sh, input_offset=5, tile=t, out=o)
    check_all_splits(fc, b, u, fc(None, None))
    sm = lambda t, o: K.softmax_s8(x, input_multiplier=1 << 30, input_left_shift=21,
                                   diff_min=-992, tile=None if t is None else (t[0], t[1], 0, d),
                                   out=o)
    full = sm(None, None)
    for r in range(b + 1):
        part = sm((r, b, 0, d), sm((0, r, 0, d), np.zeros_like(full)))
        assert np.array_equal(part, full)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), shape=st.lists(st.integers(1, 5), min_size=4, max_size=4),
       mask=st.lists(st.booleans(), min_size=4, max_size=4))
def test_binary_tiles(seed, shape, mask):
    rng = np.random.default_rng(seed)
    a = i8(rng, shape)
    b = i8(rng, [d if keep else 1 for d, keep in zip(shape, mask)])
    params = dict(input1_offset=1, input2_offset=-2, output_offset=3, left_shift=20,
                  input1_multiplier=1 << 30, input1_shift=0, input2_multiplier=1 << 30,
                  input2_shift=-1, output_multiplier=1 << 30, output_shift=-18)
    for op in ("add", "sub", "mul"):
        p = dict(params, output_shift=-6) if op == "mul" else params
        run = lambda t, o: K.binary_s8(op, a, b, p, tile=t, out=o)
        check_all_splits(run, shape[1], shape[3], run(None, None))


def rows_chans5(shape):
    """Tile extent of an N-D output: rows are dim 2 of the shape padded to rank 5."""
    s5 = K._shape5(shape)
    return s5[2], s5[4]


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), shape=st.lists(st.integers(1, 4), min_size=1, max_size=5),
       data=st.data())
def test_shape_op_tiles(seed, shape, data):
    rng = np.random.default_rng(seed)
    x = i8(rng, shape)
    nd = len(shape)
    perm = data.draw(st.permutations(range(nd)))
    pads = [[data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))] for _ in shape]
    axis = data.draw(st.integers(0, nd - 1))
    runs = [
        lambda t, o: K.transpose(x, perm, tile=t, out=o),
        lambda t, o: K.pad(x, pads, -3, tile=t, out=o),
        lambda t, o: K.reshape(x, shape[::-1], tile=t, out=o),
        lambda t, o: K.concatenation([x, np.take(x, [0], axis), x], axis, requant=[None, [1, -2, 1 << 30, 1], None],
                                     tile=t, out=o),
        lambda t, o: K.strided_slice(x, [-1] * nd, [0] * nd, [-2] * nd, end_mask=1, tile=t, out=o),
        lambda t, o: K.split(x, axis, 0, max(1, shape[axis] // 2), tile=t, out=o),
        lambda t, o: K.mean(x, [axis], params=[3, -1, 1 << 30, -1], tile=t, out=o),
        lambda t, o: K.mean(x.astype(np.float32), [0, nd - 1], tile=t, out=o),
    ]
    for run in runs:
        full = run(None, None)
        check_all_splits(run, *rows_chans5(full.shape), full)
    # Without keep_dims the flat layout is the same and tiles still index the kept shape.
    kept = [1 if d in (0, nd - 1) else n for d, n in enumerate(shape)]
    run = lambda t, o: K.mean(x.astype(np.float32), [0, nd - 1], keep_dims=False, tile=t, out=o)
    check_all_splits(run, *rows_chans5(kept), run(None, None))


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), shape=st.lists(st.integers(1, 5), min_size=4, max_size=4))
def test_activation_and_float_tiles(seed, shape):
    rng = np.random.default_rng(seed)
    x = i8(rng, shape)
    xf = rng.standard_normal(shape).astype(np.float32)
    hs = [3, -20, 17476, 3, 27307, -6]
    runs = [lambda t, o: K.unary_s8("hard_swish", x, hs, tile=t, out=o)]
    runs += [lambda t, o, op=op: K.unary_f32(op, xf, tile=t, out=o)
             for op in ("logistic", "tanh", "hard_swish")]
    runs += [lambda t, o: K.binary_f32("mul", xf, xf[:, :1], tile=t, out=o),
             lambda t, o: K.pool("avg", xf, filter_hw=(2, 2), out_hw=shape[1:3], pad=(0, 0),
                                 tile=t, out=o)]
    for run in runs:
        full = run(None, None)
        check_all_splits(run, full.shape[1], full.shape[3], full)
    flat = xf.reshape(-1, shape[3])
    wt = rng.standard_normal((3, shape[3])).astype(np.float32)
    fc = lambda t, o: K.fully_connected_f32(flat, wt, None, tile=t, out=o)
    check_all_splits(fc, flat.shape[0], 3, fc(None, None))
