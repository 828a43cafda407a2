"""Compare what we computed with the reference interpreter, tensor by tensor.

Rules (the same for every model; `CheckReport.summary` states which applied):

- int8 tensors against TFLM: identical, byte for byte. Never a tolerance.
- float32 tensors (against TFLM or onnxruntime): max |ours - ref| / max |ref| <= 1e-5 per
  tensor (FLOAT_RTOL). Our float kernels sum in TFLM's order but call our own exp/tanh,
  and onnxruntime sums in its own order (im2col + GEMM), so bytes may differ by ulps.
- int8 tensors of a QDQ ONNX model against onnxruntime: each op is run on onnxruntime's
  own values of its inputs and its output must be within 1 LSB of onnxruntime's
  (ONNX_INT8_LSB) in the quantized domain; the summary gives the exact fraction of
  elements that differ. Why not exact: onnxruntime fuses DequantizeLinear -> op ->
  QuantizeLinear into int8 kernels that requantize with a float32 multiply and round
  half to even (QLinearConv, QLinearMatMul/Gemm), or computes in float and quantizes
  once (Softmax); arielml runs TFLM's integer arithmetic (gemmlowp
  fixed-point multipliers with double rounding, fixed-point exp). Both round the same
  real number, so they disagree only where it lies within a rounding error of a .5
  boundary, and then by exactly 1 LSB. Ops without such rounding (MaxPool, Reshape,
  Transpose, Concat of equal scales, Pad with the zero point) come out identical, and so
  did QuantizeLinear, Add, AveragePool and requantizing Concat on the test models.
  Comparing per op keeps the bound meaningful: through a chain of layers a 1-LSB
  difference can grow (softmax amplifies it), so graph outputs compared end to end are
  reported (fraction, largest LSB difference) but not bounded.
- float32 tensors of a QDQ model that are a DequantizeLinear of an int8 tensor are
  compared in that int8 domain (round(x / scale) + zero_point), under the rule above.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arielml.ir import DType, Graph, OpKind
from arielml.oracle.reference import OnnxReference, TflmReference

FLOAT_RTOL = 1e-5
ONNX_INT8_LSB = 1


@dataclass
class Mismatch:
    tensor: str
    differing: int
    total: int
    max_abs: float
    max_rel: float | None = None  # float tensors: max |diff| / max |ref|


@dataclass
class CheckReport:
    reference: str
    compared: list[str] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    float_rtol: float = FLOAT_RTOL
    int_lsb: int = 0  # allowed |diff| of int8 elements (0: bit-exact)
    float_tensors: int = 0
    max_rel: float = 0.0  # worst float32 relative error among compared tensors
    int_tensors: int = 0
    int_elements: int = 0
    int_differing: int = 0  # int8 elements that differ (within int_lsb when ok)
    max_lsb: int = 0
    # QDQ ONNX graph outputs compared end to end (reported, not bounded; see check_onnx).
    e2e_compared: list[str] = field(default_factory=list)
    e2e_elements: int = 0
    e2e_differing: int = 0
    e2e_max_lsb: int = 0

    @property
    def ok(self) -> bool:
        return bool(self.compared) and not self.mismatches

    @property
    def exact(self) -> bool:
        return self.ok and self.int_differing == 0 and self.max_rel == 0.0 and \
            self.e2e_differing == 0

    def summary(self) -> str:
        n = len(self.compared)
        e2e = ""
        if self.e2e_compared:
            frac = self.e2e_differing / max(self.e2e_elements, 1)
            e2e = (f"; end to end: {self.e2e_differing}/{self.e2e_elements} output elements "
                   f"differ ({frac:.4%}), max {self.e2e_max_lsb} LSB")
        if self.exact:
            return f"bit-exact with {self.reference}: {n} tensors identical{e2e}"
        if self.ok:
            parts = []
            if self.int_tensors:
                if self.int_differing == 0:
                    parts.append(f"{self.int_tensors} int8 identical")
                else:
                    frac = self.int_differing / max(self.int_elements, 1)
                    parts.append(f"{self.int_tensors} int8 within {self.int_lsb} LSB: "
                                 f"{self.int_differing}/{self.int_elements} elements differ "
                                 f"({frac:.4%}), max {self.max_lsb} LSB")
            if self.float_tensors:
                parts.append(f"{self.float_tensors} float32 within relative {self.float_rtol:g}: "
                             f"max {self.max_rel:.3g}")
            return f"matches {self.reference}: {n} tensors ({'; '.join(parts)}){e2e}"

        def show(m: Mismatch) -> str:
            rel = f", max rel {m.max_rel:.3g}" if m.max_rel is not None else ""
            return f"{m.tensor} ({m.differing}/{m.total} differ, max |diff| {m.max_abs:g}{rel})"

        worst = ", ".join(show(m) for m in self.mismatches[:3])
        return (f"MISMATCH with {self.reference}: {len(self.mismatches)} of {n} "
                f"tensors differ: {worst}{e2e}")


def _compare_int(report: CheckReport, name: str, ours: np.ndarray, ref: np.ndarray,
                 lsb: int) -> None:
    diff = np.abs(ours.astype(np.int64) - ref.astype(np.int64))
    differing = int(np.count_nonzero(diff))
    worst = int(diff.max()) if diff.size else 0
    report.int_tensors += 1
    report.int_elements += diff.size
    report.int_differing += differing
    report.max_lsb = max(report.max_lsb, worst)
    if worst > lsb:
        report.mismatches.append(Mismatch(name, int(np.count_nonzero(diff > lsb)), diff.size,
                                          float(worst)))


def compare(report: CheckReport, name: str, ours: np.ndarray, ref: np.ndarray) -> None:
    """int8 (and other integer) tensors within `report.int_lsb` (0 for TFLM: exact);
    float32 tensors within `report.float_rtol` of the tensor's max |ref|."""
    ref = np.asarray(ref)
    ours = np.asarray(ours).reshape(ref.shape)
    report.compared.append(name)
    if ours.dtype != ref.dtype:
        report.mismatches.append(Mismatch(name, ref.size, ref.size, float("inf")))
        return
    if ref.dtype != np.float32:
        _compare_int(report, name, ours, ref, report.int_lsb)
        return
    report.float_tensors += 1
    diff = np.abs(ours.astype(np.float64) - ref.astype(np.float64))
    if not np.all(np.isfinite(ours) == np.isfinite(ref)) or \
            not np.array_equal(ours[~np.isfinite(ref)], ref[~np.isfinite(ref)]):
        report.mismatches.append(Mismatch(name, ref.size, ref.size, float("inf"), float("inf")))
        return
    diff = np.where(np.isfinite(ref), diff, 0.0)
    scale = float(np.max(np.abs(np.where(np.isfinite(ref), ref, 0.0)))) if ref.size else 0.0
    max_abs = float(diff.max()) if diff.size else 0.0
    rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
    report.max_rel = max(report.max_rel, rel)
    if rel > report.float_rtol:
        report.mismatches.append(Mismatch(name, int(np.count_nonzero(diff)), diff.size, max_abs,
                                          rel))


def check_tflite(g: Graph, model: Path, inputs: dict[str, np.ndarray],
                 tensors: dict[str, np.ndarray], ref: TflmReference | None = None) -> CheckReport:
    """Every tensor we have that TFLM also holds: int8 identical, byte for byte; float32
    within FLOAT_RTOL.

    `tensors` is every activation we computed (the host path), or only the outputs
    (a device run): either way each is compared with TFLM's tensor of the same index.
    """
    ref = ref or TflmReference(model)
    ref.run([inputs[n] for n in g.inputs])
    report = CheckReport("TFLM (reference kernels)")
    for name, ours in tensors.items():
        index = g.tensor(name).source_index
        if index is not None and name not in g.inputs:
            compare(report, name, ours, ref.tensor(index))
    return report


def _to_onnx_layout(ours: np.ndarray, ir_shape, onnx_shape) -> np.ndarray | None:
    """Our tensor in ONNX's layout: rank-4 activations are NHWC in the IR, NCHW in ONNX."""
    onnx_shape = tuple(int(d) for d in onnx_shape)
    ours = np.asarray(ours).reshape(ir_shape)
    if len(ir_shape) == 4 and len(onnx_shape) == 4 and \
            tuple(ir_shape[p] for p in (0, 3, 1, 2)) == onnx_shape:
        return ours.transpose(0, 3, 1, 2)
    if tuple(ir_shape) == onnx_shape:
        return ours
    return None


def _dequantized_from(g: Graph, name: str):
    """The int8 tensor a float tensor is the DEQUANTIZE of, or None."""
    for op in g.ops:
        if name in op.outputs and op.kind is OpKind.DEQUANTIZE:
            src = g.tensor(op.inputs[0])
            if src.dtype is DType.INT8 and src.quant is not None and len(src.quant.scale) == 1:
                return src
    return None


def _requantize(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    q = np.round(x.astype(np.float64) / np.float64(np.float32(scale))) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def onnx_inputs(g: Graph, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Our (NHWC) inputs as onnxruntime takes them (NCHW for rank 4)."""
    out = {}
    for name in g.inputs:
        x = np.asarray(inputs[name], np.float32).reshape(g.tensor(name).shape)
        out[name] = np.ascontiguousarray(x.transpose(0, 3, 1, 2) if x.ndim == 4 else x)
    return out


def _from_onnx_layout(theirs: np.ndarray, ir_shape) -> np.ndarray | None:
    ir_shape = tuple(int(d) for d in ir_shape)
    if len(ir_shape) == 4 and theirs.ndim == 4 and \
            tuple(ir_shape[p] for p in (0, 3, 1, 2)) == theirs.shape:
        return np.ascontiguousarray(theirs.transpose(0, 2, 3, 1))
    if theirs.shape == ir_shape:
        return theirs
    return None


def _compare_onnx(report: CheckReport, g: Graph, name: str, ours: np.ndarray,
                  theirs: np.ndarray, qdq: bool, end_to_end: bool = False) -> None:
    ours = _to_onnx_layout(ours, g.tensor(name).shape, theirs.shape)
    if ours is None:
        return
    src = _dequantized_from(g, name) if qdq else None
    if src is not None and theirs.dtype == np.float32:
        s, z = src.quant.scale[0], src.quant.zero_point[0]
        ours, theirs = _requantize(ours, s, z), _requantize(theirs, s, z)
    if end_to_end and qdq and theirs.dtype != np.float32:
        # Differences accumulated through the layers: reported, not bounded.
        diff = np.abs(ours.reshape(theirs.shape).astype(np.int64) - theirs.astype(np.int64))
        report.e2e_compared.append(name)
        report.e2e_elements += diff.size
        report.e2e_differing += int(np.count_nonzero(diff))
        report.e2e_max_lsb = max(report.e2e_max_lsb, int(diff.max()) if diff.size else 0)
        return
    label = f"{name} (end to end)" if end_to_end else name
    if theirs.dtype != np.float32:
        report.compared.append(label)
        _compare_int(report, label, ours.reshape(theirs.shape), theirs, report.int_lsb)
        return
    compare(report, label, ours, theirs)


def check_onnx(g: Graph, model: Path, inputs: dict[str, np.ndarray],
               tensors: dict[str, np.ndarray], ref: OnnxReference | None = None,
               lowered: list | None = None) -> CheckReport:
    """Our tensors against onnxruntime's values of the same ONNX name (see the module
    docstring for the rules).

    With `lowered` (what `run` passes), every op is run once more through its kernels on
    onnxruntime's own values of its inputs (our own per-op results where onnxruntime
    has no such value, e.g. a layout TRANSPOSE the frontend added), and each op output
    onnxruntime also names is checked: that measures each op's arithmetic alone, not
    differences accumulated upstream. The graph outputs in `tensors` (a host run or a
    device's outputs) are also compared end to end: float32 within FLOAT_RTOL; for QDQ
    int8 the differing fraction and largest LSB difference are reported, not bounded
    (a 1-LSB difference upstream can grow through later layers; softmax amplifies it).
    """
    ref = ref or OnnxReference(model, tuple(n for n in g.tensors if n not in g.inputs))
    ref.run(onnx_inputs(g, inputs))
    qdq = ref.is_qdq
    report = CheckReport("onnxruntime", int_lsb=ONNX_INT8_LSB if qdq else 0)
    if lowered is not None:
        forced: dict[str, np.ndarray] = {}

        def value(n: str) -> np.ndarray:
            if n in g.inputs:
                return np.asarray(inputs[n], g.tensor(n).dtype.numpy).reshape(g.tensor(n).shape)
            if n in ref.values:
                v = _from_onnx_layout(ref.tensor(n), g.tensor(n).shape)
                if v is not None:
                    return v
            return forced[n]

        for low in lowered:
            got = low.host_all({n: value(n) for n in low.inputs}, None, {})
            forced.update(got)
            for n in low.outputs:
                if n in ref.values:
                    _compare_onnx(report, g, n, got[n], ref.tensor(n), qdq)
    for name in g.outputs:
        if name in tensors and name in ref.outputs:
            _compare_onnx(report, g, name, tensors[name], np.asarray(ref.outputs[name]), qdq,
                          end_to_end=True)
    return report
