"""numpy wrappers over the native kernels (`arielml._native`): the device's code, on the host.

Every function takes numpy arrays and returns a new numpy array. `tile` is
(row_start, row_end, channel_start, channel_end) of the output; with `out` given, only
the tile's elements of a copy of `out` are recomputed, so callers can assemble an output
from tiles exactly as several cores would.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from arielml import _native
from arielml.lower.base import param_fields, param_words
from arielml.lower.host_bytes import INT8_RANGE, Tile, _f32, _i8, _ints, _out, _shape4
from arielml.lower.host_gemm import (  # noqa: F401  (the packed kernels, for callers of this module)
    gemm_conv2d_s8, gemm_conv2d_s8_words, gemm_depthwise_s8, gemm_depthwise_s8_words, gemm_fully_connected_s8,
    gemm_fully_connected_s8_words,
)

def window_geometry(padding: str, in_hw, filter_hw, stride, dilation=(1, 1)):
    """TFLM's output size and (top, left) padding for SAME or VALID."""
    out, pad = [], []
    for i, f, s, d in zip(in_hw, filter_hw, stride, dilation):
        eff = (f - 1) * d + 1
        o = (i + s - 1) // s if padding == "SAME" else (i + s - eff) // s
        out.append(o)
        pad.append(max(0, (o - 1) * s + eff - i) // 2)
    return tuple(out), tuple(pad)


def conv2d_s8_words(kind: str, x, w, bias, mult, shift, words: Sequence[int], *, out_hw, stride=(1, 1),
                    dilation=(1, 1), pad=(0, 0), tile: Tile = None, out=None):
    """int8 CONV_2D (`kind` "conv", the words of `Conv2dParams`) or DEPTHWISE_CONV_2D
    ("depthwise", of `DepthwiseParams`); the window comes from the shapes and geometry."""
    out_c = w.shape[3] if kind == "depthwise" else w.shape[0]
    out_shape = [x.shape[0], out_hw[0], out_hw[1], out_c]
    raw = _native.conv2d_s8(kind, _i8(x), list(x.shape), _i8(w), list(w.shape),
                            None if bias is None else _ints(bias), _ints(mult), _ints(shift),
                            out_shape, tuple(stride), tuple(dilation), tuple(pad), _ints(words), tile,
                            _out(out, np.int8))
    return np.frombuffer(raw, np.int8).reshape(out_shape).copy()


def _conv_like_s8(kind, x, w, bias, mult, shift, out_hw, stride, dilation, pad, input_offset,
                  output_offset, act, depth_multiplier, tile, out):
    named = dict(input_offset=int(input_offset), output_offset=int(output_offset), act_min=int(act[0]),
                 act_max=int(act[1]))
    if kind == "depthwise":
        words = param_words("DepthwiseParams", depth_multiplier=depth_multiplier, **named)
    else:
        words = param_words("Conv2dParams", **named)
    return conv2d_s8_words(kind, x, w, bias, mult, shift, words, out_hw=out_hw, stride=stride,
                           dilation=dilation, pad=pad, tile=tile, out=out)


def conv2d_s8(x, w, bias, mult, shift, *, out_hw, stride=(1, 1), dilation=(1, 1), pad=(0, 0),
              input_offset=0, output_offset=0, act=INT8_RANGE, tile: Tile = None, out=None):
    """x NHWC int8, w OHWI int8, bias int32[O] or None; mult/shift int32[O]."""
    return _conv_like_s8("conv", x, w, bias, mult, shift, out_hw, stride, dilation, pad,
                         input_offset, output_offset, act, 1, tile, out)


def depthwise_conv2d_s8(x, w, bias, mult, shift, *, out_hw, depth_multiplier=1, stride=(1, 1),
                        dilation=(1, 1), pad=(0, 0), input_offset=0, output_offset=0,
                        act=INT8_RANGE, tile: Tile = None, out=None):
    """w is (1, kh, kw, C * depth_multiplier)."""
    return _conv_like_s8("depthwise", x, w, bias, mult, shift, out_hw, stride, dilation, pad,
                         input_offset, output_offset, act, depth_multiplier, tile, out)


def conv2d_f32(x, w, bias, *, out_hw, stride=(1, 1), dilation=(1, 1), pad=(0, 0),
               act=(-np.inf, np.inf), depthwise=False, depth_multiplier=1, tile: Tile = None,
               out=None):
    out_c = w.shape[3] if depthwise else w.shape[0]
    out_shape = [x.shape[0], out_hw[0], out_hw[1], out_c]
    raw = _native.conv2d_f32("depthwise" if depthwise else "conv", _f32(x), list(x.shape), _f32(w),
                             list(w.shape), None if bias is None else _f32(bias), out_shape,
                             tuple(stride), tuple(dilation), tuple(pad), float(act[0]),
                             float(act[1]), depth_multiplier, tile, _out(out, np.float32))
    return np.frombuffer(raw, np.float32).reshape(out_shape).copy()


def fully_connected_s8(x, w, bias, mult, shift, *, input_offset=0, filter_offset=0,
                       output_offset=0, act=INT8_RANGE, tile: Tile = None, out=None):
    """x (batches, depth), w (units, depth); mult/shift one entry per unit."""
    (b, d), u = x.shape, w.shape[0]
    words = param_words("FullyConnectedParams", batches=b, depth=d, units=u, input_offset=int(input_offset),
                        filter_offset=int(filter_offset), output_offset=int(output_offset),
                        act_min=int(act[0]), act_max=int(act[1]))
    return fully_connected_s8_words(x, w, bias, mult, shift, words, tile=tile, out=out)


def fully_connected_s8_words(x, w, bias, mult, shift, words: Sequence[int], *, tile: Tile = None, out=None):
    """FULLY_CONNECTED int8 with the words of `FullyConnectedParams`."""
    raw = _native.fully_connected_s8(_i8(x), _i8(w), None if bias is None else _ints(bias),
                                     _ints(mult), _ints(shift), [int(v) for v in words], tile,
                                     _out(out, np.int8))
    return np.frombuffer(raw, np.int8).reshape(x.shape[0], w.shape[0]).copy()


def fully_connected_f32(x, w, bias, *, act=(-np.inf, np.inf), tile: Tile = None, out=None):
    b, d = x.shape
    u = w.shape[0]
    raw = _native.fully_connected_f32(_f32(x), _f32(w), None if bias is None else _f32(bias),
                                      b, d, u, float(act[0]), float(act[1]), tile,
                                      _out(out, np.float32))
    return np.frombuffer(raw, np.float32).reshape(b, u).copy()


def pool(kind: str, x, *, filter_hw, out_hw, stride=(1, 1), pad=(0, 0), act=None,
         tile: Tile = None, out=None):
    """kind "avg" or "max"; int8 or float32 by x's dtype."""
    if x.dtype == np.int8:
        act = INT8_RANGE if act is None else act
        words = param_words("PoolParams", act_min=int(act[0]), act_max=int(act[1]))
        return pool_s8_words(kind, x, words, filter_hw=filter_hw, out_hw=out_hw, stride=stride, pad=pad,
                             tile=tile, out=out)
    act = (-np.inf, np.inf) if act is None else act
    out_shape = [x.shape[0], out_hw[0], out_hw[1], x.shape[3]]
    raw = _native.pool_f32(kind, _f32(x), list(x.shape), tuple(filter_hw), out_shape, tuple(stride),
                           tuple(pad), float(act[0]), float(act[1]), tile, _out(out, np.float32))
    return np.frombuffer(raw, np.float32).reshape(out_shape).copy()


def pool_s8_words(kind: str, x, words: Sequence[int], *, filter_hw, out_hw, stride=(1, 1), pad=(0, 0),
                  tile: Tile = None, out=None):
    """int8 AVERAGE/MAX_POOL_2D with the words of `PoolParams`."""
    out_shape = [x.shape[0], out_hw[0], out_hw[1], x.shape[3]]
    raw = _native.pool_s8(kind, _i8(x), list(x.shape), tuple(filter_hw), out_shape, tuple(stride),
                          tuple(pad), _ints(words), tile, _out(out, np.int8))
    return np.frombuffer(raw, np.int8).reshape(out_shape).copy()


def _binary_shapes(a, b):
    out = np.broadcast_shapes(a.shape, b.shape)
    return _shape4(a.shape), _shape4(b.shape), _shape4(out), out


def arithmetic_words(params: dict, act=INT8_RANGE) -> list[int]:
    """The words of `ArithmeticParams`: `params` by field name (input{1,2}_offset,
    output_offset and the multipliers of `arielml.ir.quant.add_params`/`mul_params`; missing
    ones are 0, unknown ones an error) and the clamp `act`."""
    named = dict.fromkeys(param_fields("ArithmeticParams"), 0)
    named.update(params, act_min=act[0], act_max=act[1])
    return param_words("ArithmeticParams", **{k: int(v) for k, v in named.items()})


def binary_s8(op: str, a, b, params: dict, *, act=INT8_RANGE, tile: Tile = None, out=None):
    """ADD/SUB/MUL int8; `params` as `arithmetic_words` takes them."""
    return binary_s8_words(op, a, b, arithmetic_words(params, act), tile=tile, out=out)


def binary_s8_words(op: str, a, b, words: Sequence[int], *, tile: Tile = None, out=None):
    """ADD/SUB/MUL int8 with the words of `ArithmeticParams` (`arithmetic_words`)."""
    sa, sb, so, out_shape = _binary_shapes(a, b)
    raw = _native.binary_s8(op, _i8(a), sa, _i8(b), sb, so, [int(w) for w in words], tile,
                            _out(out, np.int8))
    return np.frombuffer(raw, np.int8).reshape(out_shape).copy()


def binary_f32(op: str, a, b, *, act=(-np.inf, np.inf), tile: Tile = None, out=None):
    sa, sb, so, out_shape = _binary_shapes(a, b)
    raw = _native.binary_f32(op, _f32(a), sa, _f32(b), sb, so, float(act[0]), float(act[1]),
                             tile, _out(out, np.float32))
    return np.frombuffer(raw, np.float32).reshape(out_shape).copy()


def softmax_s8(x, *, input_multiplier, input_left_shift, diff_min, tile: Tile = None, out=None):
    """Softmax over the last axis; a tile's rows index the flattened leading axes."""
    depth = x.shape[-1]
    words = param_words("SoftmaxParams", rows=x.size // depth, depth=depth, input_multiplier=input_multiplier,
                        input_left_shift=input_left_shift, diff_min=diff_min)
    return softmax_s8_words(x, words, tile=tile, out=out)


def softmax_s8_words(x, words: Sequence[int], *, tile: Tile = None, out=None):
    """int8 softmax with the words of `SoftmaxParams` (rows * depth elements of x)."""
    raw = _native.softmax_s8(_i8(x), [int(w) for w in words], tile, _out(out, np.int8))
    return np.frombuffer(raw, np.int8).reshape(x.shape).copy()


def softmax_f32(x, *, beta=1.0, tile: Tile = None, out=None):
    depth = x.shape[-1]
    raw = _native.softmax_f32(_f32(x), x.size // depth, depth, float(beta), tile,
                              _out(out, np.float32))
    return np.frombuffer(raw, np.float32).reshape(x.shape).copy()


def unary_s8(op: str, x, params: Sequence[int], *, tile: Tile = None, out=None):
    """logistic / tanh / leaky_relu / requantize; params from the matching arielml.ir.quant
    function (`sigmoid_params`, `leaky_relu_params`, `requantize_op_params`)."""
    raw = _native.unary_s8(op, _i8(x), _shape4(x.shape), [int(v) for v in params], tile,
                           _out(out, np.int8))
    return np.frombuffer(raw, np.int8).reshape(x.shape).copy()


def requantize8(src: str, dst: str, x, params: Sequence[int], *, tile: Tile = None, out=None):
    """QUANTIZE between 8-bit types (`src`, `dst`: "int8" or "uint8"); params from
    `arielml.ir.quant.requantize_op_params`."""
    raw = _native.requantize8(src, dst, np.ascontiguousarray(x, src).tobytes(), _shape4(x.shape),
                              [int(v) for v in params], tile, _out(out, dst))
    return np.frombuffer(raw, dst).reshape(x.shape).copy()


def dequantize_8_f32(src: str, x, scale: float, zero_point: int, *, tile: Tile = None, out=None):
    """int8 or uint8 -> float32 DEQUANTIZE."""
    if src == "int8":
        return dequantize_s8_f32(x, scale, zero_point, tile=tile, out=out)
    raw = _native.dequantize_u8_f32(np.ascontiguousarray(x, np.uint8).tobytes(), _shape4(x.shape),
                                    float(np.float32(scale)), int(zero_point), tile, _out(out, np.float32))
    return np.frombuffer(raw, np.float32).reshape(x.shape).copy()


def quantize_f32_s8(x, scale: float, zero_point: int, *, tile: Tile = None, out=None):
    raw = _native.quantize_f32_s8(_f32(x), _shape4(x.shape), float(np.float32(scale)),
                                  int(zero_point), tile, _out(out, np.int8))
    return np.frombuffer(raw, np.int8).reshape(x.shape).copy()


def dequantize_s8_f32(x, scale: float, zero_point: int, *, tile: Tile = None, out=None):
    raw = _native.dequantize_s8_f32(_i8(x), _shape4(x.shape), float(np.float32(scale)),
                                    int(zero_point), tile, _out(out, np.float32))
    return np.frombuffer(raw, np.float32).reshape(x.shape).copy()


def unary_f32(op: str, x, *, tile: Tile = None, out=None):
    """float32 logistic / tanh / hard_swish (int8 hard_swish is `unary_s8("hard_swish",
    x, arielml.ir.quant.hard_swish_params(...))`)."""
    raw = _native.unary_f32(op, _f32(x), _shape4(x.shape), tile, _out(out, np.float32))
    return np.frombuffer(raw, np.float32).reshape(x.shape).copy()


# ---- rank <= 5 ops. Shapes are padded with leading 1s to rank 5; a tile's rows index
# dim 2 of that padded shape (H of NHWC) and its channels the last dim. ----

RANK = 5


def _shape5(shape: Sequence[int]) -> list[int]:
    shape = [int(d) for d in shape]
    if len(shape) > RANK:
        raise ValueError(f"at most {RANK} dimensions, got {shape}")
    return [1] * (RANK - len(shape)) + shape


def _axis5(axis: int, rank: int) -> int:
    return (axis % rank if rank else 0) + RANK - rank


def _bytes(x):
    return _i8(x) if x.dtype == np.int8 else _f32(x)


def _typed(x):
    if x.dtype == np.int8:
        return "int8", np.int8
    if x.dtype == np.float32:
        return "float32", np.float32
    raise ValueError(f"int8 or float32 only, got {x.dtype}")


def _result(raw, dt, shape):
    return np.frombuffer(raw, dt).reshape(shape).copy()


def reshape(x, shape, *, tile: Tile = None, out=None):
    name, dt = _typed(x)
    shape = tuple(int(d) for d in shape)
    if int(np.prod(shape)) != x.size:
        raise ValueError(f"cannot reshape {x.shape} to {shape}")
    raw = _native.reshape(name, _bytes(x), _shape5(shape), tile, _out(out, dt))
    return _result(raw, dt, shape)


def transpose(x, perm, *, tile: Tile = None, out=None):
    name, dt = _typed(x)
    lead = RANK - x.ndim
    perm5 = list(range(lead)) + [int(p) % x.ndim + lead for p in perm]
    raw = _native.transpose(name, _bytes(x), _shape5(x.shape), perm5, tile, _out(out, dt))
    return _result(raw, dt, [x.shape[p] for p in perm])


def strided_slice(x, begin, end, strides, *, begin_mask=0, end_mask=0, shrink_axis_mask=0,
                  tile: Tile = None, out=None):
    """TFLM STRIDED_SLICE (no ellipsis/new-axis masks); geometry from arielml.ir.quant."""
    from arielml.ir import quant
    name, dt = _typed(x)
    g = quant.strided_slice_params(x.shape, begin, end, strides, begin_mask, end_mask,
                                   shrink_axis_mask)
    lead = [0] * (RANK - x.ndim)
    raw = _native.strided_slice(name, _bytes(x), _shape5(x.shape), _shape5(g["kernel_shape"]),
                                lead + g["start"], [1] * len(lead) + g["stride"], None, tile,
                                _out(out, dt))
    return _result(raw, dt, g["out_shape"])


def split(x, axis: int, offset: int, size: int, *, tile: Tile = None, out=None):
    """One output of SPLIT / SPLIT_V: `size` elements from `offset` along `axis`."""
    name, dt = _typed(x)
    shape = list(x.shape)
    shape[axis] = size
    a5 = _axis5(axis, x.ndim)
    start = [0] * RANK
    start[a5] = int(offset)
    raw = _native.strided_slice(name, _bytes(x), _shape5(x.shape), _shape5(shape), start,
                                [1] * RANK, a5, tile, _out(out, dt))
    return _result(raw, dt, shape)


def pad(x, paddings, pad_value=0, *, tile: Tile = None, out=None):
    """`paddings` is (rank, 2) before/after; int8 TFLM pads with the output zero point."""
    name, dt = _typed(x)
    p = np.asarray(paddings, dtype=np.int64).reshape(x.ndim, 2)
    lead = [0] * (RANK - x.ndim)
    raw = _native.pad(name, _bytes(x), _shape5(x.shape), lead + [int(v) for v in p[:, 0]],
                      lead + [int(v) for v in p[:, 1]], float(pad_value), tile, _out(out, dt))
    return _result(raw, dt, [d + int(a) + int(b) for d, (a, b) in zip(x.shape, p)])


def concatenation(inputs, axis: int, *, requant=None, tile: Tile = None, out=None):
    """One kernel call per input into one output. `requant[i]` (from
    `arielml.ir.quant.requantize_op_params`) requantizes int8 input i; None copies it."""
    name, dt = _typed(inputs[0])
    rank = inputs[0].ndim
    shape = list(inputs[0].shape)
    shape[axis] = sum(int(x.shape[axis]) for x in inputs)
    a5 = _axis5(axis, rank)
    buf = _out(out, dt)
    offset = 0
    for i, x in enumerate(inputs):
        q = None if requant is None or requant[i] is None else [int(v) for v in requant[i]]
        buf = _native.concatenation(name, _bytes(x), _shape5(x.shape), _shape5(shape), a5,
                                    offset, q, tile, buf)
        offset += int(x.shape[axis])
    return _result(buf, dt, shape)


def mean(x, axes, *, keep_dims=True, params=None, tile: Tile = None, out=None, op="mean"):
    """MEAN (or `op` "sum", "max", "min") over `axes`; int8 MEAN takes
    `arielml.ir.quant.mean_params(...)`, int8 SUM `sum_params`. Tiles index the keep_dims
    shape (the flat layout is the same either way)."""
    name, dt = _typed(x)
    red = {int(a) % x.ndim for a in axes}
    mask = [False] * (RANK - x.ndim) + [d in red for d in range(x.ndim)]
    raw = _native.mean(name, _bytes(x), _shape5(x.shape), mask,
                       None if params is None else [int(v) for v in params], tile,
                       _out(out, dt), op)
    shape = [1 if d in red else n for d, n in enumerate(x.shape)]
    if not keep_dims:
        shape = [n for d, n in enumerate(x.shape) if d not in red]
    return _result(raw, dt, shape)
