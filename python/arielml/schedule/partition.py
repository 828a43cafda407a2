"""Split each operator into tiles and compute exact tile-level dependencies.

A tile is a range of output rows (H of NHWC; the batch rows of a 2-D output) times a
range of output channels, matching the kernels' `Tile`: an op is cut along rows, along
channels or both (a 2-D grid), whichever makes its largest tile smallest. A tile waits only for the producer tiles
whose outputs it reads: for sliding windows that is the receptive field of its rows,
for elementwise ops the same rows, for anything else the whole input.

The partitioner never sees cores; it takes how many tiles each op should get.
"""

from __future__ import annotations

from dataclasses import dataclass

from arielml.ir import Conv2DAttrs, Graph, Op, Pool2DAttrs
from arielml.ir.kinds import grid, kind, out_grid


@dataclass(frozen=True)
class TileSpec:
    """Part of one op's output: rows [r0, r1) x channels [c0, c1)."""

    op: int
    rows: tuple[int, int]
    channels: tuple[int, int]


@dataclass(frozen=True)
class Task:
    id: int
    tile: TileSpec
    deps: tuple[int, ...]  # task ids this task reads from


def _even(n: int, k: int) -> list[tuple[int, int]]:
    k = max(1, min(k, n))
    bounds = [n * i // k for i in range(k + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(k)]


def _tilings(rows: int, chans: int, parts: int, by_rows: bool, by_chans: bool):
    """(row parts, channel parts) grids of exactly `parts` tiles the kernel can take."""
    for r in range(parts, 0, -1):
        c, rem = divmod(parts, r)
        if rem or r > rows or c > chans or (r > 1 and not by_rows) or (c > 1 and not by_chans):
            continue
        yield r, c


def split_op(g: Graph, index: int, parts: int) -> list[TileSpec]:
    """`parts` tiles of op `index`: of all grids of row x channel parts that make exactly
    `parts` tiles, the one whose largest tile has the fewest output elements (the op's
    share of the critical path), ties to more row parts (a channel tile repeats the input
    gathering of its rows); with no such grid, channel tiles (rows too few), else whole."""
    op = g.ops[index]
    k = kind(op.kind)
    rows, chans = out_grid(op.kind, g.tensor(op.outputs[0]).type.shape)
    grids = list(_tilings(rows, chans, parts, k.split_rows, k.split_channels)) if parts > 1 else []
    if grids:
        r, c = min(grids, key=lambda rc: (-(-rows // rc[0]) * -(-chans // rc[1]), -rc[0]))
        return [TileSpec(index, rr, cc) for rr in _even(rows, r) for cc in _even(chans, c)]
    if parts > 1 and k.split_channels and chans >= 2:
        return [TileSpec(index, (0, rows), c) for c in _even(chans, parts)]
    return [TileSpec(index, (0, rows), (0, chans))]


def input_rows(g: Graph, op: Op, input_index: int, rows: tuple[int, int]) -> tuple[int, int] | None:
    """Rows of input `input_index` that output rows `rows` read; None means all of it."""
    in_shape = g.tensor(op.inputs[input_index]).type.shape
    out_shape = g.tensor(op.outputs[0]).type.shape
    if kind(op.kind).window and input_index == 0:
        a = op.attrs
        assert isinstance(a, (Conv2DAttrs, Pool2DAttrs))
        kh = g.tensor(op.inputs[1]).type.shape[1] if isinstance(a, Conv2DAttrs) else a.filter[0]
        dil = a.dilation[0] if isinstance(a, Conv2DAttrs) else 1
        lo = rows[0] * a.stride[0] - a.padding.top
        hi = (rows[1] - 1) * a.stride[0] - a.padding.top + (kh - 1) * dil + 1
        return max(0, lo), min(in_shape[1], hi)
    if kind(op.kind).same_rows and tuple(in_shape) == tuple(out_shape):
        return rows
    return None


def _same_row_view(g: Graph, consumer: Op, producer: Op, tensor: str) -> bool:
    """Whether producer tiles and consumer rows of `tensor` index the same rows.

    Equal row counts imply equal meaning: a flattened row count N*H*W equals H only
    when N = W = 1.
    """
    shape = g.tensor(tensor).type.shape
    return grid(kind(consumer.kind).flat_rows, shape)[0] == out_grid(producer.kind, shape)[0]


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def build_tasks(g: Graph, parts_per_op: list[int], *, exact: bool = True) -> list[Task]:
    """Tasks for every op (in graph order) and their dependencies.

    exact=True: a tile waits only for the producer tiles it reads (most overlap between
    consecutive ops). exact=False: a tile waits for every tile of its producer ops, so an
    op's input is dead before its consumers write (less RAM); still no global barrier,
    independent branches still overlap.
    """
    producer = g.producers()
    tasks: list[Task] = []
    by_op: dict[int, list[Task]] = {}
    for i, op in enumerate(g.ops):
        mine = []
        for tile in split_op(g, i, parts_per_op[i]):
            deps: list[int] = []
            for k, name in enumerate(op.inputs):
                if name not in producer:
                    continue  # a graph input or a constant
                need = input_rows(g, op, k, tile.rows) if exact else None
                if need is not None and not _same_row_view(g, op, g.ops[producer[name]], name):
                    need = None
                for t in by_op[producer[name]]:
                    if need is None or _overlaps(t.tile.rows, need):
                        deps.append(t.id)
            task = Task(len(tasks), tile, tuple(sorted(set(deps))))
            tasks.append(task)
            mine.append(task)
        by_op[i] = mine
    return tasks
