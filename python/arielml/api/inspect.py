"""The analysis behind `arielml inspect`: per-op cost and memory of an imported model.

MACs count multiply-accumulates of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED only
(everything else is a rounding error next to them on these models). The peak-activation
estimate is deliberately simple: ops run in graph order, a tensor lives from its producer
to its last consumer, and the peak is the largest sum of live tensors at any op.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from arielml.frontends import load_model
from arielml.frontends.common import UnsupportedOps
from arielml.ir import Graph, Op
from arielml.ir.kinds import op_macs


@dataclass
class OpRow:
    index: int
    kind: str
    input_shapes: list[list[int]]
    output_shapes: list[list[int]]
    dtype: str
    macs: int
    weight_bytes: int
    activation_bytes: int


@dataclass
class Report:
    model: str
    rows: list[OpRow] = field(default_factory=list)
    unsupported: dict[str, int] = field(default_factory=dict)
    total_macs: int = 0
    total_weight_bytes: int = 0
    total_activation_bytes: int = 0
    peak_activation_bytes: int = 0
    inputs: list[dict] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    # Variables (persistent state kept across invocations): bytes, beside the activations.
    state_bytes: int = 0

    def to_json(self) -> dict:
        return asdict(self)


def _row(g: Graph, i: int, op: Op) -> OpRow:
    ins = [g.tensors[n] for n in op.inputs]
    outs = [g.tensors[n] for n in op.outputs]
    acts = [t for t in ins + outs if not t.is_const]
    return OpRow(i, op.kind.value, [list(t.shape) for t in ins], [list(t.shape) for t in outs],
                 (acts or ins)[0].dtype.value, op_macs(g, op),
                 sum(t.type.nbytes for t in ins if t.is_const),
                 sum(t.type.nbytes for t in {id(t): t for t in acts}.values()))


def peak_activation_bytes(g: Graph) -> int:
    n = len(g.ops)
    born = {name: -1 for name in g.inputs}
    last = {name: n for name in g.outputs}  # outputs stay live to the end
    for i, op in enumerate(g.ops):
        for name in op.outputs:
            born.setdefault(name, i)
        for name in op.inputs:
            last[name] = max(last.get(name, i), i)
    peak = 0
    for i in range(max(n, 1)):
        live = sum(g.tensors[t].type.nbytes for t, b in born.items()
                   if b <= i <= last.get(t, b) and not g.tensors[t].is_const and not g.tensors[t].is_state)
        peak = max(peak, live)
    return peak


def _io(g: Graph, names: list[str]) -> list[dict]:
    return [{"name": n, "shape": list(g.tensors[n].shape),
             "dtype": g.tensors[n].dtype.value} for n in names]


def inspect_graph(g: Graph, model: str = "") -> Report:
    rows = [_row(g, i, op) for i, op in enumerate(g.ops)]
    acts = {t.name: t.type.nbytes for t in g.activations()}
    return Report(model or g.source, rows, {}, sum(r.macs for r in rows),
                  sum(t.type.nbytes for t in g.constants()), sum(acts.values()),
                  peak_activation_bytes(g), _io(g, g.inputs), _io(g, g.outputs),
                  sum(t.type.nbytes for t in g.variables()))


def inspect_model(path: str | Path, *, optimize: bool = True) -> Report:
    """Import (and by default optimize) a model and report on it.

    A model with unsupported ops gives a report with only `unsupported` filled in, so the
    caller can show the whole list; any other import failure raises UsageError.
    """
    try:
        g = load_model(path)
    except UnsupportedOps as e:
        return Report(str(path), unsupported=e.ops)
    if optimize:
        from arielml.passes import optimize as run_passes
        g = run_passes(g, check=False)
    return inspect_graph(g, str(path))
