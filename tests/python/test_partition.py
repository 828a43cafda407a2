"""Tiles of every op of the MLPerf int8 models, cut for 1-6 shares: they cover the op's
output grid exactly once, and the shares a partition makes (whole-row tile i with band
tile parts+i when the rows do not divide) differ by at most one channel per remainder
row with a band, one row with even rows, one channel with channel tiles."""

from __future__ import annotations

import numpy as np
import pytest

from _models import INT8_MODELS, model_path
from arielml.ir.kinds import kind, out_grid
from arielml.pipeline import load
from arielml.schedule.partition import split_op


@pytest.fixture(scope="module", params=INT8_MODELS)
def graph(request):
    return load(model_path(request.param))


@pytest.mark.parametrize("parts", range(1, 7))
def test_tiles_cover_each_output_once_in_equal_shares(graph, parts):
    for i, op in enumerate(graph.ops):
        rows, chans = out_grid(op.kind, graph.tensor(op.outputs[0]).type.shape)
        tiles = split_op(graph, i, parts)
        hits = np.zeros((rows, chans), np.int32)
        for t in tiles:
            assert t.op == i and 0 <= t.rows[0] < t.rows[1] <= rows and 0 <= t.channels[0] < t.channels[1] <= chans
            hits[t.rows[0]:t.rows[1], t.channels[0]:t.channels[1]] += 1
        assert (hits == 1).all(), (op.kind, parts, tiles)
        if parts == 1 or len(tiles) == 1:
            continue
        by_rows = all(t.channels == (0, chans) for t in tiles[:parts]) and rows >= parts
        band = len(tiles) - parts if by_rows else 0
        assert band in (0, parts) and len(tiles) == (parts + band if by_rows else min(parts, chans)), tiles
        assert band == 0 or kind(op.kind).split_channels
        shares = [0] * min(parts, len(tiles))
        for j, t in enumerate(tiles):
            shares[j % parts] += (t.rows[1] - t.rows[0]) * (t.channels[1] - t.channels[0])
        # band: one channel per remainder row; even rows: one row; channels: one channel
        slack = rows % parts if band else chans if by_rows else rows
        assert max(shares) - min(shares) <= slack, (op.kind, parts, rows, chans, shares)


def test_rows_that_do_not_divide_go_by_channels():
    """kws: 25 output rows on 4 shares: four 6-row tiles and row 24 cut in four."""
    g = load(model_path("kws_ref_model.tflite"))
    tiles = split_op(g, 0, 4)
    assert [t.rows for t in tiles] == [(0, 6), (6, 12), (12, 18), (18, 24)] + [(24, 25)] * 4
    assert [t.channels for t in tiles[4:]] == [(0, 16), (16, 32), (32, 48), (48, 64)]
