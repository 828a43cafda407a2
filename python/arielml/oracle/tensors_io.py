"""Model inputs and outputs as .npz files, keyed by tensor name (or arr_0, arr_1...)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from arielml.errors import UsageError
from arielml.ir import Graph


def random_inputs(g: Graph, seed: int) -> dict[str, np.ndarray]:
    """Seeded inputs over each input's whole range (ints) or a unit normal (floats)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in g.inputs:
        t = g.tensor(name)
        rng_int = t.dtype.int_range
        if rng_int is not None:
            out[name] = rng.integers(rng_int[0], rng_int[1] + 1, size=t.shape, dtype=t.dtype.numpy)
        else:
            out[name] = rng.standard_normal(t.shape).astype(t.dtype.numpy)
    return out


def load_inputs(g: Graph, path: Path) -> dict[str, np.ndarray]:
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise UsageError(f"{path}: a single array (.npy), not an .npz archive: save the inputs "
                             f"with numpy.savez(path, input_name=array, ...)")
        with loaded as npz:
            data = {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise UsageError(f"{path}: not a readable .npz file ({e})") from None
    out = {}
    for i, name in enumerate(g.inputs):
        key = name if name in data else f"arr_{i}"
        if key not in data:
            raise UsageError(f"{path}: no array for input '{name}' (keys: {', '.join(data) or 'none'})")
        t = g.tensor(name)
        arr = data[key]
        if arr.size != t.type.numel:
            raise UsageError(f"{path}: '{key}' has {arr.size} elements, input '{name}' needs "
                             f"{t.type.numel} ({'x'.join(map(str, t.shape))})")
        if arr.dtype != t.dtype.numpy:
            raise UsageError(f"{path}: '{key}' is {arr.dtype}, input '{name}' is {t.dtype.value}")
        out[name] = arr.reshape(t.shape)
    return out


def save_outputs(path: Path, outputs: dict[str, np.ndarray]) -> None:
    try:
        np.savez(path, **outputs)
    except OSError as e:
        raise UsageError(f"--outputs {path}: cannot write ({e.strerror or e})") from None
