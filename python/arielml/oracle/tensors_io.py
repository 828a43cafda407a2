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


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise UsageError(f"{path}: a single array (.npy), not an .npz archive: save the inputs "
                             f"with numpy.savez(path, input_name=array, ...)")
        with loaded as npz:
            return {k: npz[k] for k in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise UsageError(f"{path}: not a readable .npz file ({e})") from None


def load_sequence(g: Graph, path: Path) -> tuple[list[dict[str, np.ndarray]], bool]:
    """The invocations an inputs file asks for: (one input dict per invocation, whether the
    file is a sequence). An array of shape (N, *input_shape), one more leading axis than
    the model's input with the same N for every input, is N invocations, frame after
    frame; otherwise each array is one invocation's input (its element count must match)."""
    data = _read_npz(path)
    arrays = {}
    for i, name in enumerate(g.inputs):
        key = name if name in data else f"arr_{i}"
        if key not in data:
            raise UsageError(f"{path}: no array for input '{name}' (keys: {', '.join(data) or 'none'})")
        t = g.tensor(name)
        arr = data[key]
        if arr.dtype != t.dtype.numpy:
            raise UsageError(f"{path}: '{key}' is {arr.dtype}, input '{name}' is {t.dtype.value}")
        arrays[name] = (key, arr)
    seq = {name: arr.shape[0] for name, (_, arr) in arrays.items()
           if arr.ndim == len(g.tensor(name).shape) + 1 and arr.shape[1:] == tuple(g.tensor(name).shape)}
    if seq and len(seq) != len(arrays):
        single = next(n for n in arrays if n not in seq)
        raise UsageError(f"{path}: '{arrays[single][0]}' is one frame while other inputs are sequences of "
                         f"{next(iter(seq.values()))}: give every input as (N, *shape)")
    if seq:
        counts = set(seq.values())
        if len(counts) != 1:
            raise UsageError(f"{path}: the input sequences differ in length ({', '.join(map(str, sorted(counts)))}); "
                             f"every input needs the same number of frames")
        n = counts.pop()
        if n == 0:
            raise UsageError(f"{path}: the input sequences have no frames")
        return [{name: arr[k] for name, (_, arr) in arrays.items()} for k in range(n)], True
    out = {}
    for name, (key, arr) in arrays.items():
        t = g.tensor(name)
        if arr.size != t.type.numel:
            raise UsageError(f"{path}: '{key}' has {arr.size} elements, input '{name}' needs "
                             f"{t.type.numel} ({'x'.join(map(str, t.shape))}), or (N, {', '.join(map(str, t.shape))}) "
                             f"for a sequence of N invocations")
        out[name] = arr.reshape(t.shape)
    return [out], False


def load_inputs(g: Graph, path: Path) -> dict[str, np.ndarray]:
    """One invocation's inputs from an .npz (a sequence file is refused)."""
    steps, is_seq = load_sequence(g, path)
    if is_seq:
        raise UsageError(f"{path}: holds a sequence of {len(steps)} frames; one invocation's inputs expected")
    return steps[0]


def save_outputs(path: Path, outputs: dict[str, np.ndarray]) -> None:
    try:
        np.savez(path, **outputs)
    except OSError as e:
        raise UsageError(f"--outputs {path}: cannot write ({e.strerror or e})") from None
