"""Split each operator into tiles and compute exact tile-level dependencies.

A tile is a range of output rows (H of NHWC; the batch rows of a 2-D output) times a
range of output channels, matching the kernels' `Tile`: an op is cut along rows, the
rows that do not divide by channels as well when they are wide enough (`split_op`), or along channels alone. A tile waits only for the producer tiles
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


# A remainder band is cut by channels only when it holds at least this many output
# pixels: the packed kernels compute blocks of 1-2 pixels x 2-8 channels and pay a
# per-call set-up, so a channel tile of a thinner band costs far more than its share
# (measured on the M33: a 1-pixel band of a 1x1 conv 1.8x its share (str_ww), a 5-pixel
# band 1.2-1.4x (kws); the even rows are then better).
MIN_BAND_PIXELS = 4


def split_op(g: Graph, index: int, parts: int) -> list[TileSpec]:
    """Tiles of op `index` for `parts` equal shares of its output.

    Along rows when it has at least `parts` rows: `parts` tiles of equal whole rows, and
    when the rows do not divide (kws: 25 rows on 2 or 4 cores), the kernel also takes
    channel tiles and the remainder rows hold `MIN_BAND_PIXELS`, those rows as one band
    cut into `parts` channel tiles, so every share has the same number of output elements
    (a whole-row tile is cheaper per element than a channel tile, which repeats the
    kernel's set-up and input gathering for its rows, so only the remainder is cut by
    channels); otherwise rows as even as they go. With too few rows, `parts` channel
    tiles; else the op whole."""
    op = g.ops[index]
    k = kind(op.kind)
    shape = g.tensor(op.outputs[0]).type.shape
    rows, chans = out_grid(op.kind, shape)
    if parts > 1 and k.split_rows and rows >= parts:
        pixels_per_row = shape[2] if len(shape) == 4 and not k.flat_rows else 1
        band = rows % parts
        if not (k.split_channels and chans >= parts and band * pixels_per_row >= MIN_BAND_PIXELS):
            band = 0
        tiles = [TileSpec(index, r, (0, chans)) for r in _even(rows - band, parts)]
        if band:
            tiles += [TileSpec(index, (rows - band, rows), c) for c in _even(chans, parts)]
        return tiles
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
    # A variable's producer (its ASSIGN) runs after its readers: it is not a data
    # dependency of them (they read the previous invocation's value, finished before this
    # invocation starts); instead the ASSIGN waits for every reader (write after read).
    producer = {n: i for n, i in g.producers().items() if not g.tensors[n].is_state}
    readers = {n: [i for i in idx] for n, idx in g.consumers().items() if g.tensors[n].is_state}
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
            for name in op.outputs:
                deps += [t.id for r in readers.get(name, ()) for t in by_op[r]]
            task = Task(len(tasks), tile, tuple(sorted(set(deps))))
            tasks.append(task)
            mine.append(task)
        by_op[i] = mine
    return tasks
