"""The one error type users see.

Every failure a user can cause or fix (bad model, bad board file, missing tool, hung
emulator) is raised as an ArielError. The CLI prints its message on one line and exits
with its code; anything else reaching the top is a bug in arielml.
"""

from __future__ import annotations


class ArielError(Exception):
    """A failure explained in one line, with the process exit code to use."""

    exit_code = 1

    def __init__(self, message: str, *, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(ArielError):
    """Bad input from the user: a board file, a model, an option. Exit code 2."""

    exit_code = 2


class ToolMissing(ArielError):
    """A required external tool (toolchain, QEMU, linker) is not installed."""

    exit_code = 3


class EmulatorError(ArielError):
    """QEMU failed to start, hung, or the firmware reported a failure."""

    exit_code = 4
