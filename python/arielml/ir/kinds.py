"""One record per op kind: what the partitioner, the cost model and the lowering need to
know about an op beyond its attributes. Adding an op kind means one `Kind` here (a kind
without a record cannot be split, and is priced per output element).

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

import math
from dataclasses import dataclass

from arielml.ir.graph import Graph
from arielml.ir.ops import Op, OpKind


@dataclass(frozen=True)
class Kind:
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

KINDS: dict[OpKind, Kind] = {
    OpKind.CONV_2D: Kind(**_WINDOW, per_mac=6.0),
    OpKind.DEPTHWISE_CONV_2D: Kind(**_WINDOW, per_mac=9.0),
    OpKind.AVERAGE_POOL_2D: Kind(**_WINDOW, per_element=40.0),
    OpKind.MAX_POOL_2D: Kind(**_WINDOW, per_element=30.0),
    OpKind.FULLY_CONNECTED: Kind(split_rows=True, split_channels=True, flat_rows=True, per_mac=5.0),
    OpKind.SOFTMAX: Kind(split_rows=True, same_rows=True, flat_rows=True, per_element=120.0),
    OpKind.ADD: Kind(**_ELEMENTWISE, per_element=30.0),
    OpKind.SUB: Kind(**_ELEMENTWISE, per_element=30.0),
    OpKind.MUL: Kind(**_ELEMENTWISE, per_element=20.0),
    **{k: Kind(**_ELEMENTWISE) for k in (
        OpKind.LOGISTIC, OpKind.TANH, OpKind.RELU, OpKind.RELU6, OpKind.CLIP, OpKind.LEAKY_RELU,
        OpKind.HARD_SWISH, OpKind.QUANTIZE, OpKind.DEQUANTIZE)},
}
WHOLE = Kind()  # every other kind: one task over the whole output, read inputs whole


def kind(k: OpKind) -> Kind:
    return KINDS.get(k, WHOLE)


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
