"""State of an ONNX import: ONNX names -> IR tensors, NCHW -> NHWC, and QDQ folding.

Layout: every rank-4 activation is NHWC in the IR (as in TFLite), so both frontends give the
same op kinds and layouts. Ops whose meaning depends on memory order (reshape, flatten)
go back to NCHW through an explicit TRANSPOSE when the order actually differs.

QDQ: a DequantizeLinear output is an alias of its int8 input. A compute node whose data
inputs are all such aliases and whose output feeds only a QuantizeLinear becomes one int8
IR op writing the QuantizeLinear's output directly; that QuantizeLinear is then skipped.
"""

from __future__ import annotations

import numpy as np

from arielml.errors import UsageError
from arielml.frontends.common import printable
from arielml.ir import DType, Op, OpKind, Quant, Tensor, TensorType, TransposeAttrs

NCHW_TO_NHWC = (0, 2, 3, 1)
NHWC_TO_NCHW = (0, 3, 1, 2)


def nhwc_axis(axis: int) -> int:
    """Where NCHW axis `axis` lives in NHWC."""
    return NCHW_TO_NHWC.index(axis)


def trivial_layout(nchw: tuple[int, ...]) -> bool:
    """NCHW and NHWC have the same memory order when C == 1 or H*W == 1."""
    return len(nchw) != 4 or nchw[1] == 1 or nchw[2] * nchw[3] == 1


class Builder:
    def __init__(self, path: str, initializers: dict[str, np.ndarray],
                 shapes: dict[str, tuple[tuple[int, ...], int]], graph_outputs: set[str]):
        self.path = path
        self.init = initializers
        self.shapes = shapes  # ONNX name -> (NCHW shape, elem type), from shape inference
        self.graph_outputs = graph_outputs
        self.tensors: dict[str, Tensor] = {}
        self.ops: list[Op] = []
        self.ir_name: dict[str, str] = {}  # ONNX activation name -> IR tensor (IR layout)
        self.dq_act: dict[str, str] = {}  # DQ output -> IR int8 tensor
        self.dq_const: dict[str, tuple[np.ndarray, Quant]] = {}  # DQ output -> int data+quant
        self.float_of: dict[str, str] = {}  # IR int8 tensor -> its DEQUANTIZE'd float twin
        self.consumers: dict[str, list] = {}
        self.done_q: set[str] = set()  # QuantizeLinear outputs already written by a fold
        self._fresh = 0
        self.ops_after: tuple[str, str] | None = None

    def fail(self, node, msg: str) -> UsageError:
        label = printable(node.op_type) + (f" {printable(node.name)!r}" if node.name else "")
        return UsageError(f"{self.path}: node {label}: {msg}")

    # --- tensors -------------------------------------------------------------------
    def fresh(self, base: str) -> str:
        self._fresh += 1
        name = f"{base}:{self._fresh}"
        return name if name not in self.tensors else self.fresh(base)

    def add(self, name: str, ttype: TensorType, data: np.ndarray | None = None) -> str:
        self.tensors[name] = Tensor(name, ttype, data)
        return name

    def onnx_shape(self, name: str) -> tuple[int, ...]:
        if name in self.init:
            return tuple(self.init[name].shape)
        if name not in self.shapes:
            raise UsageError(f"{self.path}: no static shape for tensor {name!r}")
        return self.shapes[name][0]

    def is_const(self, name: str) -> bool:
        return name in self.init or name in self.dq_const

    def is_q(self, name: str) -> bool:
        return name in self.dq_act or name in self.dq_const

    def emit(self, kind: OpKind, inputs, outputs, attrs=None) -> None:
        op = Op(kind, tuple(inputs), tuple(outputs)) if attrs is None else \
            Op(kind, tuple(inputs), tuple(outputs), attrs)
        self.ops.append(op)

    # --- reading inputs --------------------------------------------------------------
    def const(self, name: str) -> np.ndarray:
        """A constant input as real numbers (dequantized if it went through a DQ node)."""
        if name in self.init:
            return self.init[name]
        if name in self.dq_const:
            data, q = self.dq_const[name]
            scale = np.asarray(q.scale, np.float32)
            zp = np.asarray(q.zero_point, np.float32)
            if q.axis is not None:
                shape = [1] * data.ndim
                shape[q.axis] = -1
                scale, zp = scale.reshape(shape), zp.reshape(shape)
            return ((data.astype(np.float32) - zp) * scale).astype(np.float32)
        raise UsageError(f"{self.path}: tensor {name!r} must be a constant")

    def qconst(self, name: str) -> tuple[np.ndarray, Quant]:
        return self.dq_const[name]

    def act(self, name: str, quantized: bool) -> str:
        """IR tensor for an activation input, int8 in quantized mode, float otherwise."""
        if quantized:
            return self.dq_act[name]
        if name in self.dq_act:  # a float consumer of a quantized value: real DEQUANTIZE
            q = self.dq_act[name]
            if q not in self.float_of:
                t = self.tensors[q]
                # Keep the ONNX name when it is free: it is often a graph output.
                fname = name if name not in self.tensors else self.fresh(name)
                f = self.add(fname, TensorType(t.shape, DType.FLOAT32))
                self.emit(OpKind.DEQUANTIZE, [q], [f])
                self.float_of[q] = f
            return self.float_of[q]
        if name not in self.ir_name:
            raise UsageError(f"{self.path}: tensor {name!r} is used before it is produced")
        return self.ir_name[name]

    def to_onnx_layout(self, ir: str) -> str:
        """The same value in ONNX (NCHW) memory order, via TRANSPOSE if it differs."""
        t = self.tensors[ir]
        if len(t.shape) != 4:
            return ir
        nchw = tuple(t.shape[p] for p in NHWC_TO_NCHW)
        if trivial_layout(nchw):
            return ir
        out = self.add(self.fresh(ir + "/nchw"), TensorType(nchw, t.dtype, t.type.quant))
        self.emit(OpKind.TRANSPOSE, [ir], [out], TransposeAttrs(NHWC_TO_NCHW))
        return out

    # --- outputs ---------------------------------------------------------------------
    def quant_output(self, node) -> tuple[str, Quant, DType] | None:
        """If the node's only output feeds only a QuantizeLinear: (its output, quant, dtype)."""
        if len(node.output) != 1 or node.output[0] in self.graph_outputs:
            return None
        users = self.consumers.get(node.output[0], [])
        if len(users) != 1 or users[0].op_type != "QuantizeLinear":
            return None
        q = users[0]
        scale = self.init.get(q.input[1]) if len(q.input) > 1 else None
        zp = self.init.get(q.input[2]) if len(q.input) > 2 and q.input[2] else None
        if scale is None or scale.size != 1:
            return None
        # Without a zero point ONNX means uint8; arielml's kernels are int8 only.
        if zp is None or zp.dtype != np.int8:
            raise self.fail(q, "only int8 quantization is supported (zero point is not int8)")
        z = int(zp.reshape(-1)[0])
        return q.output[0], Quant.per_tensor(float(scale.reshape(-1)[0]), z), DType.INT8

    def output(self, node, nchw: tuple[int, ...], q: tuple | None, index: int = 0,
               onnx_order: bool = False) -> str:
        """Declare the IR tensor for node.output[index]; rank-4 outputs become NHWC.

        With onnx_order the producing op writes NCHW memory order, so a TRANSPOSE to NHWC
        follows when the orders differ. Returns the name the producing op must write.
        """
        name = node.output[index]
        dtype = q[2] if q else DType.FLOAT32
        quant = q[1] if q else None
        target = q[0] if q else name
        if len(nchw) == 4:
            shape = tuple(nchw[p] for p in NCHW_TO_NHWC)
        else:
            shape = tuple(nchw)
        self.add(target, TensorType(shape, dtype, quant))
        if q:
            self.done_q.add(q[0])
        self.ir_name[target] = target
        if onnx_order and not trivial_layout(nchw):
            tmp = self.add(self.fresh(target + "/nchw"), TensorType(tuple(nchw), dtype, quant))
            self.ops_after = (tmp, target)
            return tmp
        self.ops_after = None
        return target

    def finish_output(self) -> None:
        """Emit the NCHW -> NHWC transpose that `output(onnx_order=True)` announced."""
        if self.ops_after:
            tmp, target = self.ops_after
            self.emit(OpKind.TRANSPOSE, [tmp], [target], TransposeAttrs(NCHW_TO_NHWC))
            self.ops_after = None
