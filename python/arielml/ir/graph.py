"""The Graph: tensors by name, ops in execution (topological) order, inputs and outputs."""

from __future__ import annotations

from dataclasses import dataclass, field

from arielml.ir.ops import Op
from arielml.ir.types import Tensor


@dataclass
class Graph:
    tensors: dict[str, Tensor]
    ops: list[Op]
    inputs: list[str]
    outputs: list[str]
    name: str = ""
    # Where the graph came from, for messages ("model.tflite").
    source: str = field(default="", compare=False)
    # SHA-256 (hex) of the model file's bytes, computed once when it is read (frontends):
    # the model's identity for profiles, the build manifest and the firmware's model id.
    digest: str = field(default="", compare=False)
    # A model's initialisation that needs computing (CALL_ONCE of a subgraph with ops on
    # constants): that subgraph as a graph without inputs, and which of its outputs each
    # variable is assigned. pipeline.initialise runs it once, at build time, into the
    # variables' `init`, and drops it.
    init_graph: "Graph | None" = field(default=None, compare=False, repr=False)
    init_assign: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def tensor(self, name: str) -> Tensor:
        return self.tensors[name]

    def producers(self) -> dict[str, int]:
        """tensor name -> index of the op producing it."""
        return {out: i for i, op in enumerate(self.ops) for out in op.outputs}

    def consumers(self) -> dict[str, list[int]]:
        """tensor name -> indices of ops reading it (in order, with repeats removed)."""
        result: dict[str, list[int]] = {}
        for i, op in enumerate(self.ops):
            for name in dict.fromkeys(op.inputs):
                result.setdefault(name, []).append(i)
        return result

    def activations(self) -> list[Tensor]:
        """Non-constant tensors that are used by the graph."""
        used = set(self.inputs) | set(self.outputs)
        for op in self.ops:
            used.update(op.inputs)
            used.update(op.outputs)
        return [t for n, t in self.tensors.items() if n in used and not t.is_const and not t.is_state]

    def variables(self) -> list[Tensor]:
        """The variables (tensors with persistent storage) the graph reads or writes."""
        used = {n for op in self.ops for n in op.inputs + op.outputs}
        return [t for n, t in self.tensors.items() if n in used and t.is_state]

    def constants(self) -> list[Tensor]:
        used = {n for op in self.ops for n in op.inputs}
        return [t for n, t in self.tensors.items() if n in used and t.is_const]

    def replace(self, *, ops: list[Op] | None = None,
                tensors: dict[str, Tensor] | None = None,
                outputs: list[str] | None = None) -> "Graph":
        """A new graph with some parts replaced; unused tensors are dropped."""
        new_ops = list(self.ops if ops is None else ops)
        new_outputs = list(self.outputs if outputs is None else outputs)
        pool = self.tensors if tensors is None else tensors
        used = set(self.inputs) | set(new_outputs)
        for op in new_ops:
            used.update(op.inputs)
            used.update(op.outputs)
        kept = {n: t for n, t in pool.items() if n in used}
        return Graph(kept, new_ops, list(self.inputs), new_outputs, self.name, self.source, self.digest,
                     self.init_graph, dict(self.init_assign))
