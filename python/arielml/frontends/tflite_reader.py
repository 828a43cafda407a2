"""Decode a .tflite flatbuffer into plain Python data, defensively.

The flatbuffers runtime trusts its input: a corrupt offset raises whatever struct or numpy
raise, and a corrupt vector length can ask for billions of elements. So every vector length
is checked against the file size before it is iterated, and every decoding error becomes a
UsageError naming the file. Nothing after this module touches the flatbuffer, except
builtin options which are read through `read_options` (same guard).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import flatbuffers
import numpy as np
import tflite

from arielml.errors import UsageError

# Errors the flatbuffers runtime raises on corrupt input.
DECODE_ERRORS = (struct.error, IndexError, ValueError, TypeError, UnicodeDecodeError,
                 OverflowError, AttributeError, MemoryError)

MAX_DIM = 1 << 24
MAX_ELEMENTS = 1 << 28


@dataclass
class RawQuant:
    scale: np.ndarray
    zero_point: np.ndarray
    axis: int


@dataclass
class RawTensor:
    index: int
    name: str
    shape: tuple[int, ...]
    signature: tuple[int, ...] | None
    type: int
    buffer: int
    quant: RawQuant | None
    sparse: bool
    variable: bool


@dataclass
class RawOp:
    index: int
    code: int
    custom: str | None
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options_type: int
    options: object | None  # flatbuffers.table.Table, read via read_options


@dataclass
class RawSubgraph:
    tensors: list[RawTensor]
    ops: list[RawOp]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


@dataclass
class RawModel:
    path: str
    num_subgraphs: int
    tensors: list[RawTensor]
    ops: list[RawOp]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    buffers: dict[int, bytes]  # only the buffers tensors refer to, non-empty ones
    # Every subgraph, subgraph 0 (the fields above) included: the others are what
    # CALL_ONCE runs (tflite_state.py).
    subgraphs: list[RawSubgraph] | None = None


def _builtin_code(oc) -> int:
    """The raw builtin_code field. The tflite package's BuiltinCode() returns the
    deprecated field instead whenever the code is below 127, which hides the real code
    of models whose writer filled only builtin_code (tflite-micro's model_editor does)."""
    o = oc._tab.Offset(10)
    return int(oc._tab.Get(flatbuffers.number_types.Int32Flags, o + oc._tab.Pos)) if o else 0


class _Reader:
    def __init__(self, data: bytes, path: str):
        self.data = data
        self.path = path

    def count(self, n: int, elem_size: int, what: str) -> int:
        # A vector of n elements needs n*elem_size bytes: longer means a corrupt length.
        if n < 0 or n * elem_size > len(self.data):
            raise UsageError(f"{self.path}: corrupt model: {what} count {n} exceeds the file")
        return n

    def ints(self, arr, what: str) -> tuple[int, ...]:
        if isinstance(arr, int):  # the runtime returns 0 for an absent vector
            return ()
        self.count(len(arr), 4, what)
        return tuple(int(x) for x in arr)

    def quant(self, q) -> RawQuant | None:
        if q is None:
            return None
        n = self.count(q.ScaleLength(), 4, "scale")
        if n == 0:
            return None
        scale = np.asarray(q.ScaleAsNumpy(), dtype=np.float32).copy()
        zps = q.ZeroPointAsNumpy()
        zps = np.zeros(n, np.int64) if isinstance(zps, int) else np.asarray(zps, np.int64).copy()
        return RawQuant(scale, zps, int(q.QuantizedDimension()))

    def tensor(self, i: int, t) -> RawTensor:
        shape = self.ints(t.ShapeAsNumpy(), "shape")
        sig = self.ints(t.ShapeSignatureAsNumpy(), "shape signature") or None
        if any(d < 0 or d > MAX_DIM for d in shape) or math.prod(shape) > MAX_ELEMENTS:
            raise UsageError(f"{self.path}: tensor {i} has an unsupported shape {list(shape)}")
        raw_name = t.Name()
        name = raw_name.decode("utf-8", "replace") if raw_name else ""
        return RawTensor(i, name, shape, sig, int(t.Type()), int(t.Buffer()),
                         self.quant(t.Quantization()), t.Sparsity() is not None,
                         bool(t.IsVariable()))

    def op(self, i: int, op, codes: list[tuple[int, str | None]]) -> RawOp:
        idx = int(op.OpcodeIndex())
        if not 0 <= idx < len(codes):
            raise UsageError(f"{self.path}: corrupt model: op {i} has opcode index {idx}")
        code, custom = codes[idx]
        return RawOp(i, code, custom, self.ints(op.InputsAsNumpy(), "op inputs"),
                     self.ints(op.OutputsAsNumpy(), "op outputs"),
                     int(op.BuiltinOptionsType()), op.BuiltinOptions())

    def opcodes(self, m) -> list[tuple[int, str | None]]:
        result = []
        for i in range(self.count(m.OperatorCodesLength(), 4, "operator code")):
            oc = m.OperatorCodes(i)
            # The deprecated int8 field holds codes < 127; newer codes live in builtin_code.
            # Writers fill either or both, so take the larger.
            code = max(int(oc.DeprecatedBuiltinCode()), _builtin_code(oc))
            custom = oc.CustomCode()
            result.append((code, custom.decode("utf-8", "replace") if custom else None))
        return result

    def buffer(self, m, index: int) -> bytes:
        b = m.Buffers(index)
        if b is None:
            return b""
        offset, size = int(b.Offset()), int(b.Size())
        if offset > 1:  # large models keep data after the flatbuffer, addressed by offset
            if offset + size > len(self.data):
                raise UsageError(f"{self.path}: corrupt model: buffer {index} outside the file")
            return bytes(self.data[offset:offset + size])
        arr = b.DataAsNumpy()
        return b"" if isinstance(arr, int) else arr.tobytes()


def read_model(data: bytes, path: str) -> RawModel:
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise UsageError(f"{path}: not a TFLite model (no TFL3 file identifier)")
    r = _Reader(data, path)
    try:
        m = tflite.Model.GetRootAsModel(data, 0)
        num_sg = r.count(m.SubgraphsLength(), 4, "subgraph")
        if num_sg == 0:
            raise UsageError(f"{path}: model has no subgraph")
        codes = r.opcodes(m)
        subgraphs = []
        for k in range(num_sg):
            sg = m.Subgraphs(k)
            tensors = [r.tensor(i, sg.Tensors(i))
                       for i in range(r.count(sg.TensorsLength(), 4, "tensor"))]
            ops = [r.op(i, sg.Operators(i), codes)
                   for i in range(r.count(sg.OperatorsLength(), 4, "operator"))]
            subgraphs.append(RawSubgraph(tensors, ops, r.ints(sg.InputsAsNumpy(), "inputs"),
                                         r.ints(sg.OutputsAsNumpy(), "outputs")))
        num_buffers = r.count(m.BuffersLength(), 4, "buffer")
        buffers = {}
        for t in (t for sg in subgraphs for t in sg.tensors):
            if 0 < t.buffer < num_buffers and t.buffer not in buffers:
                buffers[t.buffer] = r.buffer(m, t.buffer)
        main = subgraphs[0]
        return RawModel(path, num_sg, main.tensors, main.ops, main.inputs, main.outputs,
                        {k: v for k, v in buffers.items() if v}, subgraphs)
    except DECODE_ERRORS as e:
        raise UsageError(f"{path}: corrupt TFLite flatbuffer ({type(e).__name__})") from None


def read_options(raw: RawOp, cls_name: str, fields: tuple[str, ...], path: str) -> dict:
    """Read scalar fields of an op's builtin options table (defaults if it has none)."""
    cls = getattr(tflite, cls_name)
    opts = cls()
    try:
        if raw.options is not None:
            opts.Init(raw.options.Bytes, raw.options.Pos)
        else:
            # An absent table reads as all defaults: point at an empty vtable.
            opts.Init(b"\x04\x00\x04\x00\x04\x00\x00\x00", 4)
        values = {f: getattr(opts, f)() for f in fields}
        # String fields (VAR_HANDLE's container and shared_name) come back as bytes.
        return {f: v.decode("utf-8", "replace") if isinstance(v, bytes) else v for f, v in values.items()}
    except DECODE_ERRORS as e:
        raise UsageError(f"{path}: corrupt options on op {raw.index} "
                         f"({type(e).__name__})") from None
