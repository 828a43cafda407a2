"""The `arielml` command: thin click wrappers over the Python API.

Each command lives in its own module and is added to the group explicitly below (no
registration by scanning). Commands raise ArielError for anything a user can fix; `main`
prints it on one line and exits with its code, never with a traceback.
"""

from __future__ import annotations

import signal
import sys

import click

from arielml import __version__
from arielml.errors import ArielError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="arielml")
def cli() -> None:
    """Run an int8 TinyML model on every core of a multi-core microcontroller.

    \b
    Typical use:
      arielml doctor                      check toolchains, QEMU and reference interpreters
      arielml boards                      list the boards arielml knows
      arielml hello --board qemu-an521    start every core of an emulated board
    """


def _register() -> None:
    from arielml.cli import bench_cmd, boards_cmd, build_cmd, doctor_cmd, hello_cmd, inspect_cmd, profile_cmd, run_cmd
    from arielml.cli import schedule_cmd
    from arielml.cli import flash_cmd

    cli.add_command(boards_cmd.boards)
    cli.add_command(doctor_cmd.doctor)
    cli.add_command(hello_cmd.hello)
    cli.add_command(inspect_cmd.inspect)
    cli.add_command(run_cmd.run)
    cli.add_command(build_cmd.build)
    cli.add_command(bench_cmd.bench)
    cli.add_command(profile_cmd.profile)
    cli.add_command(schedule_cmd.schedule)
    cli.add_command(flash_cmd.flash)


_register()


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C, so every `with` block ends its
    emulator or child process (QEMU runs in its own session and would outlive us)."""


def _terminate(signum, _frame):
    raise Terminated(signum)


def main(argv: list[str] | None = None) -> None:
    """The `arielml` command. SIGTERM/SIGHUP unwind it while it runs; the caller's own
    handlers are back when it returns (it may be called in-process, as the tests do)."""
    previous = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            previous[sig] = signal.signal(sig, _terminate)
        except ValueError:  # not the main thread (an embedding caller): leave its handlers
            break
    try:
        _main(argv)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _main(argv: list[str] | None) -> None:
    try:
        rv = cli.main(args=argv, prog_name="arielml", standalone_mode=False)
    except ArielError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.UsageError as e:
        # One line, as for every other error: the command and where to read its options.
        ctx = e.ctx
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        click.echo(f"error: {e.format_message()}{where}", err=True)
        sys.exit(2)
    except click.ClickException as e:
        click.echo(f"error: {e.format_message()}", err=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Terminated as e:
        signum = e.args[0]
        click.echo(f"error: terminated by {signal.Signals(signum).name}; emulators and child "
                   f"processes stopped", err=True)
        sys.exit(128 + signum)
    sys.exit(rv if isinstance(rv, int) else 0)
