"""Compare what we computed with the reference interpreter, tensor by tensor."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arielml.ir import Graph
from arielml.reference import TflmReference


@dataclass
class Mismatch:
    tensor: str
    differing: int
    total: int
    max_abs: float


@dataclass
class CheckReport:
    reference: str
    compared: list[str] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.compared) and not self.mismatches

    def summary(self) -> str:
        if self.ok:
            return f"bit-exact with {self.reference}: {len(self.compared)} tensors identical"
        worst = ", ".join(f"{m.tensor} ({m.differing}/{m.total} differ, max |diff| {m.max_abs:g})"
                          for m in self.mismatches[:3])
        return (f"MISMATCH with {self.reference}: {len(self.mismatches)} of {len(self.compared)} "
                f"tensors differ: {worst}")


def compare(report: CheckReport, name: str, ours: np.ndarray, ref: np.ndarray) -> None:
    ours = np.asarray(ours).reshape(ref.shape)
    report.compared.append(name)
    if ours.dtype != ref.dtype or not np.array_equal(ours, ref):
        diff = ours.astype(np.float64) - ref.astype(np.float64)
        report.mismatches.append(Mismatch(name, int(np.count_nonzero(diff)), diff.size,
                                          float(np.max(np.abs(diff)))))


def check_tflite(g: Graph, model: Path, inputs: dict[str, np.ndarray],
                 tensors: dict[str, np.ndarray], ref: TflmReference | None = None) -> CheckReport:
    """Every tensor we have that TFLM also holds must be identical, byte for byte.

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
