"""The README's operator lists are the frontends' registries, what `arielml inspect` accepts."""

from __future__ import annotations

import re
from pathlib import Path

from arielml.api import inspect_model
from arielml.frontends import operators

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_lists() -> dict[str, list[str]]:
    text = README.read_text()
    found = {}
    for fmt, body in re.findall(r"<!-- operators:(\w+) -->\n(.*?)<!-- /operators -->", text, re.S):
        names = body.split(":", 1)[1]
        found[fmt] = [n.strip() for n in names.replace("\n", " ").split(",") if n.strip()]
    return found


def test_readme_operator_lists_match_the_frontends():
    listed, registered = _readme_lists(), operators()
    assert set(listed) == {"tflite", "onnx"}
    for fmt in registered:
        assert listed[fmt] == sorted(listed[fmt]), f"README {fmt} list is not sorted"
        assert set(listed[fmt]) == set(registered[fmt]), (
            f"{fmt}: README lacks {sorted(set(registered[fmt]) - set(listed[fmt]))}, "
            f"lists unknown {sorted(set(listed[fmt]) - set(registered[fmt]))}")


def test_inspect_accepts_what_the_list_says(tmp_path):
    """A model with a listed op imports without complaint; an unlisted one is reported."""
    import sys
    sys.path.insert(0, str(README.parent / "models"))
    from tflite_test_models import Builder
    b = Builder()
    x = b.act([1, 4, 4, 2])
    y = b.op("SQRT", [x], [b.act([1, 4, 4, 2])])
    z = b.op("FLOOR", [y], [b.act([1, 4, 4, 2])])
    (tmp_path / "m.tflite").write_bytes(b.build([x], [z]))
    report = inspect_model(tmp_path / "m.tflite")
    assert "SQRT" in operators()["tflite"] and "FLOOR" not in operators()["tflite"]
    assert set(report.unsupported) == {"FLOOR"}
