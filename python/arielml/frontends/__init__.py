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


def operators() -> dict[str, list[str]]:
    """The operators each frontend imports, by the format's own names: what `arielml inspect`
    accepts (anything else it lists as unsupported). ONNX's QuantizeLinear/DequantizeLinear
    pairs and Constant nodes are absorbed at import and not listed."""
    from tflite.BuiltinOperator import BuiltinOperator

    from arielml.frontends.onnx_ops import REGISTRY as ONNX
    from arielml.frontends.tflite import REGISTRY as TFLITE
    names = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
    return {"tflite": sorted(names[code] for code in TFLITE), "onnx": sorted(ONNX)}
