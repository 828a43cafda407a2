"""numpy <-> bytes conversions shared by the wrappers of the native kernels
(`lower.host_kernels`, `lower.host_gemm`)."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

Tile = Optional[tuple[int, int, int, int]]
INT8_RANGE = (-128, 127)


def _i8(a) -> bytes:
    return np.ascontiguousarray(a, dtype=np.int8).tobytes()


def _f32(a) -> bytes:
    return np.ascontiguousarray(a, dtype=np.float32).tobytes()


def _ints(a) -> list[int]:
    return [int(v) for v in np.asarray(a).reshape(-1)]


def _shape4(shape: Sequence[int]) -> list[int]:
    shape = list(shape)
    if len(shape) > 4:
        raise ValueError(f"at most 4 dimensions, got {shape}")
    return [1] * (4 - len(shape)) + shape


def _out(out, dtype):
    return None if out is None else np.ascontiguousarray(out, dtype=dtype).tobytes()
