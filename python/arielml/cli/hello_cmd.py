"""`arielml hello`: start every core of a board; each reports in over serial."""

from __future__ import annotations

import sys

import click

from arielml.boards import get_board
from arielml.cli.options import board_option, log
from arielml.errors import EmulatorError
from arielml.target.hello import run_hello


@click.command()
@board_option(default="qemu-an521")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds before the run is killed.")
@click.option("--qemu-arg", "qemu_args", multiple=True, metavar="ARG",
              help="Extra argument for QEMU (repeatable), e.g. --qemu-arg=-d --qemu-arg=guest_errors.")
def hello(board_name: str, timeout: float, qemu_args: tuple[str, ...]) -> None:
    """Build the roll-call firmware and run it: every core reports in, core 0 exits.

    Emulated boards run under QEMU; the serial output is shown as it arrives.
    """
    board = get_board(board_name)

    def show(data: bytes) -> None:
        sys.stdout.write(data.decode("utf-8", "replace"))
        sys.stdout.flush()

    report = run_hello(board, timeout=timeout, extra_qemu_args=qemu_args, on_data=show, log=log)
    missing = sorted(set(range(report.cores_expected)) - set(report.cores_reported))
    if report.exit_code != 0 or missing:
        raise EmulatorError(
            f"{board.name}: firmware exited with status {report.exit_code}; "
            f"cores that did not report: {missing or 'none'}")
    click.echo(f"ok: all {report.cores_expected} cores of {board.name} reported in, exit status 0", err=True)
