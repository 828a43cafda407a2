"""Ops and their typed attributes (the kinds of op are ir/kinds.py's).

Every attribute a kernel needs is explicit and resolved: padding is four pad amounts (never
"SAME"), a fused activation is a real-valued clamp range, axes are non-negative. Kernels
downstream take these attributes plus slices and a tile; they never re-derive anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


INF = math.inf
NO_CLAMP: tuple[float, float] = (-INF, INF)


@dataclass(frozen=True)
class Padding:
    top: int = 0
    bottom: int = 0
    left: int = 0
    right: int = 0


@dataclass(frozen=True)
class Conv2DAttrs:
    """CONV_2D (weights OHWI) and DEPTHWISE_CONV_2D (weights 1HW(C*M))."""

    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    padding: Padding = Padding()
    clamp: tuple[float, float] = NO_CLAMP
    depth_multiplier: int = 1


@dataclass(frozen=True)
class Pool2DAttrs:
    filter: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: Padding = Padding()
    clamp: tuple[float, float] = NO_CLAMP


@dataclass(frozen=True)
class FullyConnectedAttrs:
    """Input is flattened to [batch, K]; weights are [units, K]."""

    clamp: tuple[float, float] = NO_CLAMP
    keep_num_dims: bool = False


@dataclass(frozen=True)
class BinaryAttrs:
    clamp: tuple[float, float] = NO_CLAMP


@dataclass(frozen=True)
class ClampAttrs:
    """RELU (0, inf), RELU6 (0, 6), CLIP (lo, hi)."""

    clamp: tuple[float, float]


@dataclass(frozen=True)
class LeakyReluAttrs:
    alpha: float


@dataclass(frozen=True)
class SoftmaxAttrs:
    beta: float = 1.0  # always over the last axis


@dataclass(frozen=True)
class AxisAttrs:
    """CONCATENATION and PACK."""

    axis: int
    clamp: tuple[float, float] = NO_CLAMP


@dataclass(frozen=True)
class PadAttrs:
    pads: tuple[tuple[int, int], ...]  # (before, after) per dim
    # In the tensor's stored domain: an int8 PAD pads with the output zero point.
    value: float = 0.0


@dataclass(frozen=True)
class MeanAttrs:
    axes: tuple[int, ...]
    keep_dims: bool


@dataclass(frozen=True)
class ReshapeAttrs:
    """RESHAPE, SQUEEZE, EXPAND_DIMS: the static output shape."""

    shape: tuple[int, ...]


@dataclass(frozen=True)
class StridedSliceAttrs:
    """Masks are resolved: begin/end/strides cover every input dim, end exclusive."""

    begin: tuple[int, ...]
    end: tuple[int, ...]
    strides: tuple[int, ...]
    shrink_axes: tuple[int, ...] = ()


@dataclass(frozen=True)
class SplitAttrs:
    axis: int
    sizes: tuple[int, ...]


@dataclass(frozen=True)
class TransposeAttrs:
    perm: tuple[int, ...]


@dataclass(frozen=True)
class NoAttrs:
    pass


@dataclass(frozen=True)
class ChannelRequant:
    """Per-output-channel requantization of CONV/DEPTHWISE/FC (TFLM's OpData)."""

    multiplier: tuple[int, ...]
    shift: tuple[int, ...]
    act_min: int
    act_max: int


@dataclass(frozen=True)
class AddRequant:
    """ADD/SUB int8: both inputs are brought to a common scale, then to the output."""

    left_shift: int
    input1_multiplier: int
    input1_shift: int
    input2_multiplier: int
    input2_shift: int
    output_multiplier: int
    output_shift: int
    act_min: int
    act_max: int


@dataclass(frozen=True)
class MulRequant:
    multiplier: int
    shift: int
    act_min: int
    act_max: int


@dataclass(frozen=True)
class SoftmaxRequant:
    input_multiplier: int
    input_left_shift: int
    diff_min: int


Attrs = (Conv2DAttrs | Pool2DAttrs | FullyConnectedAttrs | BinaryAttrs | ClampAttrs
         | LeakyReluAttrs | SoftmaxAttrs | AxisAttrs | PadAttrs | MeanAttrs | ReshapeAttrs
         | StridedSliceAttrs | SplitAttrs | TransposeAttrs | NoAttrs)
Requant = ChannelRequant | AddRequant | MulRequant | SoftmaxRequant


@dataclass(frozen=True)
class Op:
    """One operation. Inputs/outputs are tensor names in the owning Graph.

    `requant` is filled by passes.requant for int8 ops and is None before that.
    """

    kind: OpKind
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: Attrs = field(default_factory=NoAttrs)
    requant: Requant | None = None
    name: str = ""

    def __str__(self) -> str:
        return f"{self.kind.value}({', '.join(self.inputs)}) -> {', '.join(self.outputs)}"
