"""The roll call: start every core of a board and check each one reports in.

Builds firmware/apps/hello for the board, runs it (QEMU for emulated boards) and parses
the serial report. This is the smallest end-to-end proof that the toolchain, the board
crate's multi-core start, the serial link and the exit status all work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from arielml.boards import Board
from arielml.build.cargo import build_crate
from arielml.errors import EmulatorError, UsageError
from arielml.target.qemu import run_to_exit

_REPORT = re.compile(r"^core (\d+) of (\d+) reporting, checksum ([0-9a-f]{8})$")


@dataclass(frozen=True)
class HelloReport:
    board: str
    cores_expected: int
    cores_reported: tuple[int, ...]  # in the order they reported
    exit_code: int
    output: str


def parse_report(board: Board, output: str, exit_code: int) -> HelloReport:
    reported = []
    for line in output.splitlines():
        m = _REPORT.match(line.strip())
        if m:
            reported.append(int(m.group(1)))
            if int(m.group(2)) != len(board.cores):
                raise EmulatorError(
                    f"{board.name}: firmware believes it has {m.group(2)} cores but "
                    f"{board.path.name} lists {len(board.cores)}")
    return HelloReport(board.name, len(board.cores), tuple(reported), exit_code, output)


def run_hello(board: Board, *, timeout: float = 60.0, extra_qemu_args: tuple[str, ...] = (),
              on_data=None, log=None) -> HelloReport:
    if board.qemu is None:
        raise UsageError(f"hello runs on QEMU boards only for now; {board.name} has no [qemu] section")
    build = build_crate(board, "arielml-hello", features=[board.firmware.crate], log=log)
    result = run_to_exit(board, build.elf, timeout=timeout, extra_args=extra_qemu_args, on_data=on_data)
    return parse_report(board, result.text, result.exit_code)
