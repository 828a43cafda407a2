"""numpy wrappers over the packed-weight native kernels (`arielml_kernels::gemm`), over
weights packed by `lower.packing`. Each takes its parameter struct's words (`*_words`,
what lowering passes) or builds them from keyword arguments."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from arielml import _native
from arielml.lower.base import param_dict, param_words
from arielml.lower.host_bytes import INT8_RANGE, Tile, _i8, _ints, _out


def _geom(x, filter_shape, out_shape, stride, dilation, pad):
    return (list(x.shape), [int(d) for d in filter_shape], out_shape, tuple(stride), tuple(dilation), tuple(pad))


def gemm_conv2d_s8(x, plan, mult, shift, *, filter_shape, out_hw, stride=(1, 1), dilation=(1, 1),
                   pad=(0, 0), input_offset=0, output_offset=0, act=INT8_RANGE, direct=False,
                   tile: Tile = None, out=None):
    """CONV_2D over weights packed by `lower.packing.plan_gemm` (`plan`); `filter_shape`
    is the OHWI filter's shape."""
    words = param_words("GemmConv", kp=plan.kp, pad_value=-int(input_offset), direct=int(bool(direct)),
                        output_offset=int(output_offset), act_min=int(act[0]), act_max=int(act[1]))
    return gemm_conv2d_s8_words(x, plan, mult, shift, words, filter_shape=filter_shape, out_hw=out_hw,
                                stride=stride, dilation=dilation, pad=pad, tile=tile, out=out)


def gemm_conv2d_s8_words(x, plan, mult, shift, words: Sequence[int], *, filter_shape, out_hw, stride=(1, 1),
                         dilation=(1, 1), pad=(0, 0), tile: Tile = None, out=None):
    """Packed CONV_2D with the words of `GemmConv` (its window from the geometry)."""
    out_shape = [x.shape[0], out_hw[0], out_hw[1], int(filter_shape[0])]
    direct = bool(param_dict("GemmConv", words)["direct"])
    raw = _native.gemm_conv_s8(plan.family, plan.mr, plan.nr, _i8(x), plan.weights.tobytes(), _ints(plan.bias),
                               _ints(mult), _ints(shift), _geom(x, filter_shape, out_shape, stride, dilation, pad),
                               _ints(words), plan.fast_requant, plan.scratch_words(direct), tile,
                               _out(out, np.int8))
    return np.frombuffer(raw, np.int8).reshape(out_shape).copy()


def gemm_depthwise_s8(x, plan, mult, shift, *, filter_shape, out_hw, stride=(1, 1), dilation=(1, 1),
                      pad=(0, 0), input_offset=0, output_offset=0, act=INT8_RANGE, tile: Tile = None, out=None):
    """DEPTHWISE_CONV_2D (depth multiplier 1) over weights packed by `plan_depthwise`."""
    words = param_words("GemmDepthwise", pad_value=-int(input_offset), output_offset=int(output_offset),
                        act_min=int(act[0]), act_max=int(act[1]))
    return gemm_depthwise_s8_words(x, plan, mult, shift, words, filter_shape=filter_shape, out_hw=out_hw,
                                   stride=stride, dilation=dilation, pad=pad, tile=tile, out=out)


def gemm_depthwise_s8_words(x, plan, mult, shift, words: Sequence[int], *, filter_shape, out_hw, stride=(1, 1),
                            dilation=(1, 1), pad=(0, 0), tile: Tile = None, out=None):
    """Packed DEPTHWISE_CONV_2D with the words of `GemmDepthwise`."""
    out_shape = [x.shape[0], out_hw[0], out_hw[1], int(filter_shape[3])]
    raw = _native.gemm_depthwise_s8(plan.family, _i8(x), plan.weights.tobytes(), _ints(plan.bias), _ints(mult),
                                    _ints(shift), _geom(x, filter_shape, out_shape, stride, dilation, pad),
                                    _ints(words), plan.fast_requant, tile, _out(out, np.int8))
    return np.frombuffer(raw, np.int8).reshape(out_shape).copy()


def gemm_fully_connected_s8(x, plan, mult, shift, *, units, output_offset=0, act=INT8_RANGE,
                            tile: Tile = None, out=None):
    """FULLY_CONNECTED over packed weights; x is (batches, depth)."""
    batches, depth = x.shape
    words = param_words("GemmFc", batches=batches, depth=depth, units=int(units), kp=plan.kp,
                        output_offset=int(output_offset), act_min=int(act[0]), act_max=int(act[1]))
    return gemm_fully_connected_s8_words(x, plan, mult, shift, words, tile=tile, out=out)


def gemm_fully_connected_s8_words(x, plan, mult, shift, words: Sequence[int], *, tile: Tile = None, out=None):
    """Packed FULLY_CONNECTED with the words of `GemmFc`."""
    p = param_dict("GemmFc", words)
    batches, depth, units, kp = p["batches"], p["depth"], p["units"], p["kp"]
    raw = _native.gemm_fully_connected_s8(plan.family, plan.mr, plan.nr, _i8(x), plan.weights.tobytes(),
                                          _ints(plan.bias), _ints(mult), _ints(shift), [int(w) for w in words],
                                          plan.fast_requant, plan.scratch_words(kp == depth), tile,
                                          _out(out, np.int8))
    return np.frombuffer(raw, np.int8).reshape(batches, units).copy()
