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
              lowered: list[Lowered] | None = None) -> dict[str, np.ndarray]:
    """Every activation tensor of `g` after running `tasks` in `order`."""
    lowered = lowered or lower_graph(g)
    env: dict[str, np.ndarray] = {}
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
