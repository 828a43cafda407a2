"""`arielml run`: execute a model (host: through the Rust kernels) and optionally check it."""

from __future__ import annotations

from pathlib import Path

import click

from arielml.boards import get_board
from arielml.build import build_model
from arielml.errors import ArielError, UsageError
from arielml.lower import lower_graph
from arielml.oracle.check import check_onnx, check_tflite
from arielml.oracle.host import execution_order, run_tasks
from arielml.oracle.tensors_io import load_inputs, random_inputs, save_outputs, writable_file
from arielml.pipeline import compile_model
from arielml.target.device import qemu_device
from arielml.target.serial_port import (BAUD_HELP, CONNECT_HELP, CONNECT_SECONDS, PORT_HELP, RUN_SECONDS,
                                         default_baud, port_build, port_device)


@click.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--board", "-b", default="host", show_default=True,
              help="'host' runs the Rust kernels in this process; an emulated board (qemu-an521, "
                   "qemu-riscv32) builds the firmware and runs it under QEMU; a real board (rp2040, "
                   "rp2350) needs --port and the build flashed on it.")
@click.option("--cores", "-n", type=click.IntRange(min=1), default=None,
              help="Cores to split the work over (default: 1 on host, all of a board's).")
@click.option("--inputs", "inputs_path", type=click.Path(dir_okay=False, path_type=Path),
              help=".npz with one array per model input (by tensor name, or arr_0, arr_1...).")
@click.option("--outputs", "outputs_path", type=click.Path(dir_okay=False, path_type=Path), callback=writable_file,
              help="Write the model outputs here (.npz, keyed by output tensor name).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the random inputs used without --inputs.")
@click.option("--check", is_flag=True,
              help="Compare with the reference: TFLM for .tflite (int8 tensors identical, float32 within "
                   "1e-5 relative), onnxruntime for .onnx (NCHW; float32 within 1e-5 relative, QDQ int8 "
                   "within 1 LSB).")
@click.option("--port", "-p", default=None, help=PORT_HELP)
@click.option("--baud", type=click.IntRange(min=1), default=None, help=BAUD_HELP)
@click.option("--build", "build_path", type=click.Path(path_type=Path), default=None,
              help="With --port: the build the board runs (build directory, manifest.json, .elf or "
                   ".uf2), built from MODEL; default: MODEL built for the board.")
@click.option("--connect-timeout", type=click.FloatRange(min=0, min_open=True), default=CONNECT_SECONDS,
              show_default=True, help=CONNECT_HELP)
def run(model: Path, board: str, cores: int, inputs_path: Path | None, outputs_path: Path | None,
        seed: int, check: bool, port: str | None, baud: int | None, build_path: Path | None,
        connect_timeout: float) -> None:
    """Run MODEL once and report its outputs; --check compares with the reference.

    With --port the board must already run the build (`arielml flash`): MODEL's build for
    the board (built here if needed, as `arielml build` would) or the one --build names.
    """
    if not model.is_file():
        raise UsageError(f"{model}: no such file")
    if board == "host" and (port is not None or build_path is not None):
        raise UsageError("--port and --build need a board (--board rp2040, ...), not host")
    if port is None and (build_path is not None or baud is not None):
        raise UsageError("--build and --baud go with --port")
    lowered = None
    if board == "host":
        compiled = compile_model(model, cores=cores or 1)
        g = compiled.graph
        inputs = load_inputs(g, inputs_path) if inputs_path else random_inputs(g, seed)
        env = run_tasks(g, inputs, compiled.tasks, execution_order(compiled.schedule), compiled.lowered)
        lowered = compiled.lowered
    elif port is not None:
        b = get_board(board)
        log = lambda m: click.echo(m, err=True)  # noqa: E731
        built, g = port_build(b, model=model, build_path=build_path, cores=cores, log=log)
        inputs = load_inputs(g, inputs_path) if inputs_path else random_inputs(g, seed)
        with port_device(built, port, baud or default_baud(b), connect_timeout=connect_timeout, log=log) as dev:
            env = dev.infer(inputs, timeout=RUN_SECONDS).outputs
            firmware = dev.hello.firmware
        click.echo(f"ran on {b.name} over {port} ({firmware}, build {built.out}), "
                   f"{built.manifest['cores']} core(s)")
    else:
        b = get_board(board)
        if not b.emulated:
            raise UsageError(f"--board {board} is a real board: give its serial port with --port "
                             f"(e.g. /dev/ttyACM0) once the build is on it (`arielml flash`)")
        built = build_model(model, b, cores=cores, log=lambda m: click.echo(m, err=True))
        g = built.compiled.graph
        lowered = built.compiled.lowered
        inputs = load_inputs(g, inputs_path) if inputs_path else random_inputs(g, seed)
        with qemu_device(built, b) as dev:
            env = dev.infer(inputs).outputs
        click.echo(f"ran on {b.name} (QEMU {b.qemu.machine}), {built.manifest['cores']} core(s)")
    outputs = {name: env[name] for name in g.outputs}
    for name, arr in outputs.items():
        flat = arr.reshape(-1)
        shown = " ".join(str(v) for v in flat[:16]) + (" ..." if flat.size > 16 else "")
        click.echo(f"{name} {arr.dtype}{list(arr.shape)}: {shown}")
    if outputs_path:
        save_outputs(outputs_path, outputs)
        click.echo(f"outputs written to {outputs_path}")
    if check:
        suffix = model.suffix.lower()
        if suffix == ".onnx":
            # Each op is also run on onnxruntime's own inputs (see check_onnx).
            report = check_onnx(g, model, inputs, env, lowered=lowered or lower_graph(g))
        elif suffix == ".tflite":
            report = check_tflite(g, model, inputs, env)
        else:
            raise UsageError(f"--check: no reference for {model.suffix or 'extensionless'} models "
                             f"(.tflite: TFLM, .onnx: onnxruntime)")
        click.echo(report.summary())
        if not report.ok:
            raise ArielError("outputs differ from the reference", exit_code=1)
