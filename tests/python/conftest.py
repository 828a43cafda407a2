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



_CURRENT: list = [None]  # the test being set up, run or torn down (module fixtures included)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _CURRENT[0] = item
    yield
    _CURRENT[0] = None


class _QuickTierCargo:
    """`subprocess` for build/cargo.py: cross-compiling firmware for a test that is marked
    neither `slow` nor `qemu` (or for a fixture it is the first to need) fails that test, so
    the quick tier (`-m "not qemu and not slow"`) cannot quietly grow slow."""

    def __init__(self, real):
        self._real = real

    def run(self, cmd, *a, **kw):
        item = _CURRENT[0]
        if item is not None and not (item.get_closest_marker("slow") or item.get_closest_marker("qemu")):
            pytest.fail(f"{item.nodeid} runs cargo ({' '.join(map(str, cmd[:3]))} ...): mark it "
                        f"`slow` (or `qemu` if it runs firmware)", pytrace=False)
        return self._real.run(cmd, *a, **kw)

    def __getattr__(self, name):
        return getattr(self._real, name)


@pytest.fixture(autouse=True, scope="session")
def _quick_tier_builds_nothing():
    from arielml.build import cargo

    mp = pytest.MonkeyPatch()
    mp.setattr(cargo, "subprocess", _QuickTierCargo(cargo.subprocess))
    yield
    mp.undo()
