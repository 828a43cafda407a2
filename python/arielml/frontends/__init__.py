"""Model importers. `load_model` picks the frontend from the file's content."""

from __future__ import annotations

import hashlib
from pathlib import Path

from arielml.errors import UsageError
from arielml.ir import Graph


def load_model(path: str | Path) -> Graph:
    """Import a .tflite or .onnx model as a verified IR graph (UsageError if it cannot)."""
    path = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise UsageError(f"{path}: cannot read: {e.strerror or e}") from None
    if data[4:8] == b"TFL3" or path.lower().endswith(".tflite"):
        from arielml.frontends.tflite import load_tflite
        g = load_tflite(path, data)
    elif path.lower().endswith(".onnx"):
        from arielml.frontends.onnx import load_onnx
        g = load_onnx(path, data)
    else:
        raise UsageError(f"{path}: unknown model format (expected .tflite or .onnx)")
    g.digest = hashlib.sha256(data).hexdigest()  # the file is read and hashed once per build
    return g
