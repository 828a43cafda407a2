"""The CLI's SIGTERM/SIGHUP handlers live only while it runs: a caller that runs `main`
in-process (an embedding tool, the test suite) has its own handlers back afterwards."""

from __future__ import annotations

import signal

import pytest


def test_in_process_main_gives_the_callers_signal_handlers_back():
    from arielml.cli import main

    def mine(signum, frame):
        pass

    before = {s: signal.signal(s, mine) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        with pytest.raises(SystemExit) as e:
            main(["boards"])
        assert e.value.code == 0
        assert signal.getsignal(signal.SIGTERM) is mine and signal.getsignal(signal.SIGHUP) is mine
    finally:
        for s, h in before.items():
            signal.signal(s, h)
