"""Running `arielml` in-process from tests, and the one-line error contract."""

from __future__ import annotations

import pytest

from arielml.cli import main


def cli(capsys, *args) -> tuple[int, str, str]:
    """Run `arielml ARGS` in-process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as e:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return e.value.code, out, err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]
