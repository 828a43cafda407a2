"""Where arielml keeps what it makes outside the repository: the user cache (builds,
profiles) and the cargo target directory every firmware build shares."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    if "ARIELML_CACHE" in os.environ:
        return Path(os.environ["ARIELML_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "arielml"


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR") or cache_dir() / "target")
