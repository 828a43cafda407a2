"""A Device on whichever emulator the board file names: [qemu] or [spike]."""

from __future__ import annotations

import contextlib

from arielml.boards import Board
from arielml.build import Build
from arielml.errors import UsageError
from arielml.target.device import qemu_device
from arielml.target.spike import spike_device


@contextlib.contextmanager
def emulator_device(build: Build, board: Board, *, icount: bool = False):
    """QEMU (with `icount`: -icount shift=0, time = all cores' instructions) or Spike
    (always deterministic: its mtime is wall time, one pass over the harts per 50 ticks)."""
    if board.qemu is not None:
        with qemu_device(build, board, icount=icount) as dev:
            yield dev
    elif board.spike is not None:
        with spike_device(build, board) as dev:
            yield dev
    else:
        raise UsageError(f"{board.name} is not emulated: no [qemu] or [spike] section in {board.path}")


def emulator_name(board: Board) -> str:
    """'QEMU virt' or 'Spike', for messages."""
    return f"QEMU {board.qemu.machine}" if board.qemu is not None else "Spike"
