"""Pieces shared by the frontends."""

from __future__ import annotations

from arielml.errors import UsageError


def printable(name: str | bytes) -> str:
    """A model-supplied name made safe for a one-line message (corrupt files hold anything)."""
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    return "".join(ch if ch.isprintable() else "?" for ch in str(name))[:100]


class UnsupportedOps(UsageError):
    """The model uses ops arielml cannot import; `ops` maps each op name to its count."""

    def __init__(self, path: str, ops: dict):
        merged: dict[str, int] = {}
        for name, n in ops.items():
            merged[printable(name)] = merged.get(printable(name), 0) + n
        listing = ", ".join(f"{name} x{n}" for name, n in sorted(merged.items()))
        super().__init__(f"{path}: unsupported ops: {listing}")
        self.ops = merged
