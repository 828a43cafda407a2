"""The op kinds, and one record per kind: what verification, the partitioner, the cost
model and the lowering need to know about an op beyond its attributes. Adding an op kind
means its `OpKind` member and its `Kind` here, and nowhere else in the IR.

- `inputs` / `shape`: how many inputs it takes (min, max) and its output-shape rule
  (ir/shapes.py), which verify() checks every op against;

- `split_rows` / `split_channels`: the kernel takes a `Tile` of output rows / channels;
- `window`: output rows read a window of input 0's rows (receptive field by stride,
  padding, kernel height, dilation);
- `elementwise`: an output element reads the same position of each same-shaped input;
- `same_rows`: a tile of output rows reads the same rows of each same-shaped input (every
  elementwise kind, and SOFTMAX, whose rows are independent);
- `flat_rows`: the kernel sees rows as all leading dims flattened, channels as the last;
- `per_mac` / `per_element`: the analytic cost estimate in cycles of the reference kernels
  (per multiply-accumulate, or per output element; pooling scales by its window), which
  measured profiles replace where they exist.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from typing import Callable

from arielml.ir import shapes as s
from arielml.ir.graph import Graph
from arielml.ir.ops import Op


class OpKind(enum.Enum):
    CONV_2D = "CONV_2D"
    DEPTHWISE_CONV_2D = "DEPTHWISE_CONV_2D"
    FULLY_CONNECTED = "FULLY_CONNECTED"
    AVERAGE_POOL_2D = "AVERAGE_POOL_2D"
    MAX_POOL_2D = "MAX_POOL_2D"
    ADD = "ADD"
    SUB = "SUB"
    MUL = "MUL"
    MAXIMUM = "MAXIMUM"
    MINIMUM = "MINIMUM"
    DIV = "DIV"  # float32
    SQUARED_DIFFERENCE = "SQUARED_DIFFERENCE"  # int8 and float32
    # float32 elementwise math (TFLM's elementwise.cc, exp.cc, neg.cc)
    ABS = "ABS"
    NEG = "NEG"
    SQUARE = "SQUARE"
    SQRT = "SQRT"
    RSQRT = "RSQRT"
    EXP = "EXP"
    LOG = "LOG"
    SIN = "SIN"
    COS = "COS"
    CONCATENATION = "CONCATENATION"
    PAD = "PAD"
    MEAN = "MEAN"
    SUM = "SUM"
    REDUCE_MAX = "REDUCE_MAX"
    REDUCE_MIN = "REDUCE_MIN"
    QUANTIZE = "QUANTIZE"
    DEQUANTIZE = "DEQUANTIZE"
    LOGISTIC = "LOGISTIC"
    TANH = "TANH"
    RELU = "RELU"
    RELU6 = "RELU6"
    CLIP = "CLIP"  # any other clamp range (RELU_N1_TO_1, ONNX Clip)
    LEAKY_RELU = "LEAKY_RELU"
    HARD_SWISH = "HARD_SWISH"
    SOFTMAX = "SOFTMAX"
    RESHAPE = "RESHAPE"
    SQUEEZE = "SQUEEZE"
    EXPAND_DIMS = "EXPAND_DIMS"
    STRIDED_SLICE = "STRIDED_SLICE"
    SPLIT = "SPLIT"  # SPLIT and SPLIT_V: sizes are always explicit
    TRANSPOSE = "TRANSPOSE"
    PACK = "PACK"
    SHAPE = "SHAPE"
    # Variables (Tensor.is_state): READ copies the variable's value into a tensor,
    # ASSIGN copies a tensor into the variable (its output), for the next invocation.
    READ_VARIABLE = "READ_VARIABLE"
    ASSIGN_VARIABLE = "ASSIGN_VARIABLE"


Rule = Callable[[Op, list[tuple[int, ...]]], list[tuple[int, ...]]]


@dataclass(frozen=True)
class Kind:
    inputs: tuple[int, int] = (1, 1)
    shape: Rule = s.same
    split_rows: bool = False
    split_channels: bool = False
    window: bool = False
    elementwise: bool = False
    same_rows: bool = False
    flat_rows: bool = False
    per_mac: float | None = None
    per_element: float = 10.0


_WINDOW = dict(split_rows=True, split_channels=True, window=True)
_ELEMENTWISE = dict(split_rows=True, split_channels=True, elementwise=True, same_rows=True)
_BINARY = dict(_ELEMENTWISE, inputs=(2, 2), shape=s.binary)
_MANY = (1, 1 << 16)

KINDS: dict[OpKind, Kind] = {
    OpKind.CONV_2D: Kind(**_WINDOW, inputs=(2, 3), shape=s.conv2d, per_mac=6.0),
    OpKind.DEPTHWISE_CONV_2D: Kind(**_WINDOW, inputs=(2, 3), shape=s.depthwise, per_mac=9.0),
    OpKind.AVERAGE_POOL_2D: Kind(**_WINDOW, shape=s.pool, per_element=40.0),
    OpKind.MAX_POOL_2D: Kind(**_WINDOW, shape=s.pool, per_element=30.0),
    OpKind.FULLY_CONNECTED: Kind(inputs=(2, 3), shape=s.fully_connected, split_rows=True, split_channels=True,
                                 flat_rows=True, per_mac=5.0),
    OpKind.SOFTMAX: Kind(split_rows=True, same_rows=True, flat_rows=True, per_element=120.0),
    OpKind.ADD: Kind(**_BINARY, per_element=30.0),
    OpKind.SUB: Kind(**_BINARY, per_element=30.0),
    OpKind.MUL: Kind(**_BINARY, per_element=20.0),
    OpKind.MAXIMUM: Kind(**_BINARY, per_element=8.0),
    OpKind.MINIMUM: Kind(**_BINARY, per_element=8.0),
    OpKind.DIV: Kind(**_BINARY, per_element=40.0),
    OpKind.SQUARED_DIFFERENCE: Kind(**_BINARY, per_element=30.0),
    **{k: Kind(**_ELEMENTWISE, per_element=60.0) for k in (
        OpKind.ABS, OpKind.NEG, OpKind.SQUARE, OpKind.SQRT, OpKind.RSQRT, OpKind.EXP, OpKind.LOG,
        OpKind.SIN, OpKind.COS)},
    **{k: Kind(**_ELEMENTWISE) for k in (
        OpKind.LOGISTIC, OpKind.TANH, OpKind.RELU, OpKind.RELU6, OpKind.CLIP, OpKind.LEAKY_RELU,
        OpKind.HARD_SWISH, OpKind.QUANTIZE, OpKind.DEQUANTIZE)},
    # Whole ops: one task over the whole output, inputs read whole.
    OpKind.CONCATENATION: Kind(inputs=_MANY, shape=s.concat),
    OpKind.PACK: Kind(inputs=_MANY, shape=s.pack),
    OpKind.PAD: Kind(shape=s.pad),
    OpKind.MEAN: Kind(shape=s.mean),
    OpKind.SUM: Kind(shape=s.mean),
    OpKind.REDUCE_MAX: Kind(shape=s.mean),
    OpKind.REDUCE_MIN: Kind(shape=s.mean),
    OpKind.RESHAPE: Kind(shape=s.reshape),
    OpKind.SQUEEZE: Kind(shape=s.reshape),
    OpKind.EXPAND_DIMS: Kind(shape=s.reshape),
    OpKind.STRIDED_SLICE: Kind(shape=s.strided_slice),
    OpKind.SPLIT: Kind(shape=s.split),
    OpKind.TRANSPOSE: Kind(shape=s.transpose),
    OpKind.SHAPE: Kind(shape=s.shape_of),
    OpKind.READ_VARIABLE: Kind(per_element=2.0),
    OpKind.ASSIGN_VARIABLE: Kind(per_element=2.0),
}
assert set(KINDS) == set(OpKind), "every op kind has its record"


def kind(k: OpKind) -> Kind:
    return KINDS[k]


def output_shapes(op: Op, in_shapes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Expected output shapes, or ShapeError explaining why the inputs do not fit."""
    k = KINDS[op.kind]
    lo, hi = k.inputs
    if not lo <= len(in_shapes) <= hi:
        raise s.ShapeError(f"takes {lo}..{hi} inputs, got {len(in_shapes)}" if lo != hi
                           else f"takes {lo} inputs, got {len(in_shapes)}")
    return k.shape(op, in_shapes)


def out_grid(k: OpKind, shape: tuple[int, ...]) -> tuple[int, int]:
    """(rows, channels) of an op's output exactly as its kernel's `Tile` indexes it."""
    return grid(kind(k).flat_rows, shape)


def grid(flat_rows: bool, shape: tuple[int, ...]) -> tuple[int, int]:
    """(rows, channels) of `shape` seen flat (leading dims as rows) or as NHWC (H rows)."""
    if flat_rows and shape:
        return math.prod(shape[:-1]), shape[-1]
    if len(shape) > 4:
        return 1, 1
    s4 = (1,) * (4 - len(shape)) + tuple(shape)
    return s4[1], s4[3]


def op_macs(g: Graph, op: Op) -> int:
    """Multiply-accumulates of one op (0 for ops that have none)."""
    if op.kind not in (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.FULLY_CONNECTED):
        return 0
    out = g.tensors[op.outputs[0]].shape
    w = g.tensors[op.inputs[1]].shape
    if op.kind is OpKind.CONV_2D:  # each output element sums KH*KW*C_in products
        return math.prod(out) * w[1] * w[2] * w[3]
    if op.kind is OpKind.DEPTHWISE_CONV_2D:
        return math.prod(out) * w[1] * w[2]
    return math.prod(out) * w[1]
