"""Options the commands share, declared once: the same flag has the same name, type, short
form and help wherever it appears. Each factory returns a click decorator."""

from __future__ import annotations

from pathlib import Path

import click

from arielml.errors import UsageError
from arielml.target.serial_port import BAUD_HELP, BUILD_HELP, CONNECT_HELP, CONNECT_SECONDS, PORT_HELP

BOARD_HELP = "Board name (see `arielml boards`) or board TOML file."
CORES_HELP = "Cores to use (default: all of the board's)."
SCHEDULES = {
    "static": "static: our list scheduler",
    "barrier": "barrier: equal tiles and a barrier after every op (the prior art)",
    "exact": "exact: CP-SAT optimum for small graphs (needs ortools)",
}


def writable_file(ctx, param, value):
    """click callback: a file option whose directory must exist, checked before any work."""
    if value is not None:
        parent = Path(value).parent
        if not parent.is_dir():
            raise UsageError(f"{param.opts[0]} {value}: directory {parent} does not exist")
    return value


def _existing_model(ctx, param, value):
    if value is not None and not value.is_file():
        raise UsageError(f"{value}: no such file")
    return value


def model_argument(required: bool = True):
    """MODEL: a .tflite or .onnx file that must exist (one `error:` line if it does not)."""
    return click.argument("model", required=required, callback=_existing_model,
                          type=click.Path(dir_okay=False, path_type=Path))


def board_option(*, default: str | None = None, required: bool = True, help: str = BOARD_HELP):
    return click.option("--board", "-b", "board_name", default=default, required=required and default is None,
                        show_default=default is not None, help=help)


def cores_option(help: str = CORES_HELP):
    return click.option("--cores", "-n", type=click.IntRange(min=1), default=None, help=help)


def schedule_option(*modes: str):
    """--schedule, restricted to the modes a command supports (default: static)."""
    return click.option("--schedule", "mode", type=click.Choice(list(modes)), default="static",
                        show_default=True, help="; ".join(SCHEDULES[m] for m in modes) + ".")


def json_option(help: str = "Also write the figures here (JSON)."):
    return click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
                        callback=writable_file, help=help)


def port_options(*, build: bool = True, port_help: str = PORT_HELP, build_help: str = BUILD_HELP):
    """--port, --baud, [--build,] --connect-timeout: a real board on a serial line."""
    opts = [click.option("--port", "-p", default=None, help=port_help),
            click.option("--baud", type=click.IntRange(min=1), default=None, help=BAUD_HELP)]
    if build:
        opts.append(click.option("--build", "build_path", type=click.Path(path_type=Path), default=None,
                                 help=build_help))
    opts.append(click.option("--connect-timeout", type=click.FloatRange(min=0, min_open=True),
                             default=CONNECT_SECONDS, show_default=True, help=CONNECT_HELP))

    def apply(f):
        for o in reversed(opts):
            f = o(f)
        return f

    return apply


def log(message: str) -> None:
    """Progress for long steps: stderr, so stdout keeps only the command's result."""
    click.echo(message, err=True)
