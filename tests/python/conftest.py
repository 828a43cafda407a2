"""Test-wide setup: a private arielml cache per test session.

Stored profiles, generated crates and linker scripts go to a temporary directory, so no
result depends on what earlier `arielml profile` or `build` runs left in the user's
cache. The cargo target directory stays the shared one: core and the dependencies are
compiled once per machine, not once per test session.
"""

from __future__ import annotations

import pytest

from arielml.paths import target_dir


@pytest.fixture(autouse=True, scope="session")
def _private_arielml_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("CARGO_TARGET_DIR", str(target_dir()))
    mp.setenv("ARIELML_CACHE", str(tmp_path_factory.mktemp("arielml-cache")))
    yield
    mp.undo()
