"""Tensor types of the IR: shape, dtype and quantization together form the type.

Quantization is part of the type (not an op attribute) because two int8 tensors with
different scales are different values: every consumer, pass and kernel must see it.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

import numpy as np


class DType(enum.Enum):
    FLOAT32 = "float32"
    INT8 = "int8"
    UINT8 = "uint8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    BOOL = "bool"

    @property
    def numpy(self) -> np.dtype:
        return np.dtype(self.value)

    @property
    def itemsize(self) -> int:
        return self.numpy.itemsize

    @property
    def int_range(self) -> tuple[int, int] | None:
        if self in (DType.FLOAT32, DType.BOOL):
            return None
        info = np.iinfo(self.numpy)
        return int(info.min), int(info.max)


@dataclass(frozen=True)
class Quant:
    """Affine quantization: real = scale * (q - zero_point).

    axis is None for per-tensor (one scale); otherwise scales run along that axis.
    """

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int | None = None

    @property
    def per_channel(self) -> bool:
        return self.axis is not None

    @staticmethod
    def per_tensor(scale: float, zero_point: int) -> "Quant":
        return Quant((float(scale),), (int(zero_point),), None)

    def problem(self, shape: tuple[int, ...], dtype: DType) -> str | None:
        """A description of what is wrong with these params for that tensor, or None."""
        if len(self.scale) == 0 or len(self.scale) != len(self.zero_point):
            return f"{len(self.scale)} scales but {len(self.zero_point)} zero points"
        if not all(math.isfinite(s) and s > 0 for s in self.scale):
            return "scales must be finite and > 0"
        rng = dtype.int_range
        if rng is None:
            return f"quantization on a {dtype.value} tensor"
        # Biases (int32) carry zero point 0; activations' zero points must fit the dtype.
        if any(not rng[0] <= z <= rng[1] for z in self.zero_point):
            return f"zero point outside the {dtype.value} range"
        if self.axis is None:
            if len(self.scale) != 1:
                return f"{len(self.scale)} scales without a quantized axis"
        elif not 0 <= self.axis < len(shape):
            return f"quantized axis {self.axis} outside rank {len(shape)}"
        elif shape[self.axis] != len(self.scale):
            return f"{len(self.scale)} scales for {shape[self.axis]} channels on axis {self.axis}"
        return None


@dataclass(frozen=True)
class TensorType:
    shape: tuple[int, ...]
    dtype: DType
    quant: Quant | None = None

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.numel * self.dtype.itemsize

    def __str__(self) -> str:
        dims = "x".join(str(d) for d in self.shape) or "scalar"
        q = ""
        if self.quant is not None:
            if self.quant.per_channel:
                q = f" q[axis={self.quant.axis}, {len(self.quant.scale)} ch]"
            else:
                q = f" q[s={self.quant.scale[0]:.6g}, zp={self.quant.zero_point[0]}]"
        return f"{self.dtype.value}[{dims}]{q}"


@dataclass(frozen=True, eq=False)
class Tensor:
    """A named value. `data` is set for constants (weights, biases, folded values)."""

    name: str
    type: TensorType
    data: np.ndarray | None = field(default=None, repr=False)
    # Index of the tensor in the source model (TFLite subgraph 0), when it has one: lets
    # checks find the reference interpreter's copy of every intermediate tensor.
    source_index: int | None = field(default=None, compare=False)
    # A variable (resource variable): a tensor with persistent storage, kept across
    # invocations; `init` is its value before the first invocation (from the model's
    # initialisation subgraph, or TFLM's default fill). Never constant, never planned
    # in the arena; READ_VARIABLE copies it out, ASSIGN_VARIABLE writes it.
    init: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def is_state(self) -> bool:
        return self.init is not None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.type.shape

    @property
    def dtype(self) -> DType:
        return self.type.dtype

    @property
    def quant(self) -> Quant | None:
        return self.type.quant
