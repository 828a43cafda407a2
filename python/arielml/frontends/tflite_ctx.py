"""What a TFLite converter sees of one operator: its tensors, constants and options."""

from __future__ import annotations

import numpy as np

from arielml.errors import UsageError
from arielml.frontends.tflite_reader import RawModel, RawOp, read_options
from arielml.ir import NO_CLAMP, Padding, Tensor, same_padding

# ActivationFunctionType -> real clamp range. TANH and SIGN_BIT are not clamps.
_ACTIVATIONS = {0: NO_CLAMP, 1: (0.0, float("inf")), 2: (-1.0, 1.0), 3: (0.0, 6.0)}


class Ctx:
    def __init__(self, raw: RawModel, op: RawOp, by_index: dict[int, Tensor],
                 by_name: dict[str, Tensor], op_name: str):
        self.raw, self.op, self.by_index, self.by_name = raw, op, by_index, by_name
        self.op_name = op_name

    def fail(self, msg: str) -> UsageError:
        return UsageError(f"{self.raw.path}: op {self.op.index} {self.op_name}: {msg}")

    def n_inputs(self) -> int:
        return len(self.op.inputs)

    def input(self, i: int) -> Tensor | None:
        """Input i, or None when it is absent (index -1 or beyond the list)."""
        if i >= len(self.op.inputs) or self.op.inputs[i] < 0:
            return None
        return self.by_index[self.op.inputs[i]]

    def need(self, i: int) -> Tensor:
        t = self.input(i)
        if t is None:
            raise self.fail(f"input {i} is missing")
        return t

    def name(self, i: int) -> str:
        return self.need(i).name

    def const(self, i: int) -> np.ndarray:
        t = self.need(i)
        if t.data is None:
            raise self.fail(f"input {i} ({t.name!r}) must be a constant")
        return t.data

    def const_ints(self, i: int) -> tuple[int, ...]:
        return tuple(int(v) for v in self.const(i).reshape(-1))

    def outputs(self) -> tuple[str, ...]:
        if not self.op.outputs or any(i < 0 for i in self.op.outputs):
            raise self.fail("missing output")
        return tuple(self.by_index[i].name for i in self.op.outputs)

    def output(self, i: int = 0) -> Tensor:
        outs = self.outputs()
        if i >= len(outs):
            raise self.fail(f"output {i} is missing")
        return self.by_name[outs[i]]

    def data_inputs(self, count: int) -> tuple[str, ...]:
        return tuple(self.name(i) for i in range(count))

    def options(self, cls_name: str, *fields: str) -> dict:
        return read_options(self.op, cls_name, fields, self.raw.path)

    def clamp(self, code: int) -> tuple[float, float]:
        if code not in _ACTIVATIONS:
            raise self.fail(f"fused activation {code} is not supported")
        return _ACTIVATIONS[code]

    def axis(self, axis: int, rank: int) -> int:
        if not -rank <= axis < rank:
            raise self.fail(f"axis {axis} outside rank {rank}")
        return axis % rank

    def padding(self, code: int, x: Tensor, filt: tuple[int, int], stride: tuple[int, int],
                dilation: tuple[int, int] = (1, 1)) -> Padding:
        """TFLite Padding enum -> explicit pads (SAME = 0, VALID = 1)."""
        if len(x.shape) != 4:
            raise self.fail(f"input {x.name!r} is not NHWC: {list(x.shape)}")
        if min(stride + dilation) < 1 or min(filt) < 1:
            raise self.fail("stride, dilation and filter must be >= 1")
        if code == 1:
            return Padding()
        if code == 0:
            return same_padding((x.shape[1], x.shape[2]), filt, stride, dilation)
        raise self.fail(f"unknown padding {code}")
