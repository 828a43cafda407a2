"""Run an imported model on the host through the Rust kernels, tile by tile.

Tasks execute in the order of their planned start in a static schedule (ties by core),
which interleaves the cores' tiles as a parallel run would; every op's output is
assembled from its tiles exactly as the cores would write it into the arena.
"""

from __future__ import annotations

import numpy as np

from arielml.ir import Graph
from arielml.lower import Lowered, lower_graph
from arielml.schedule import Schedule
from arielml.schedule.partition import Task


def execution_order(schedule: Schedule) -> list[int]:
    return [p.task for p in sorted(schedule.placements, key=lambda p: (p.start, p.core, p.task))]


def run_tasks(g: Graph, inputs: dict[str, np.ndarray], tasks: list[Task], order: list[int],
              lowered: list[Lowered] | None = None,
              state: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Every activation tensor of `g` after running `tasks` in `order`, and every variable
    with the value this invocation assigned it. `state`: the variables' values before it
    (by default their initial values: a first invocation); see `Session`."""
    lowered = lowered or lower_graph(g)
    env: dict[str, np.ndarray] = {}
    for t in g.variables():
        env[t.name] = (t.init if state is None else state[t.name]).copy()
    for name in g.inputs:
        t = g.tensor(name)
        env[name] = np.asarray(inputs[name], dtype=t.dtype.numpy).reshape(t.type.shape)
    partial: dict[str, np.ndarray] = {}
    for t in order:
        tile = tasks[t].tile
        low = lowered[tile.op]
        host_tile = (*tile.rows, *tile.channels)
        # Multi-output ops (SPLIT) write several tensors per tile; see Lowered.host_all.
        for name, value in low.host_all(env, host_tile, partial).items():
            partial[name] = value
            env[name] = value
    return env


class Session:
    """Invocations of one model in one session, as one TFLM interpreter invoked again and
    again: its variables start at their initial values (what CALL_ONCE assigns on the
    first invocation, else TFLM's zero-point fill) and keep what each invocation assigns."""

    def __init__(self, g: Graph, tasks: list[Task], order: list[int], lowered: list[Lowered] | None = None):
        self.g, self.tasks, self.order = g, tasks, order
        self.lowered = lowered or lower_graph(g)
        self.state = {t.name: t.init.copy() for t in g.variables()}

    def invoke(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        env = run_tasks(self.g, inputs, self.tasks, self.order, self.lowered, self.state)
        self.state = {name: env[name] for name in self.state}
        return env
