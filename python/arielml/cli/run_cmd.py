"""`arielml run`: execute a model (host: through the Rust kernels) and optionally check it."""

from __future__ import annotations

from pathlib import Path

import click

from arielml import api
from arielml.cli.options import log, model_argument, port_options, writable_file
from arielml.errors import ArielError
from arielml.oracle.tensors_io import save_outputs


@click.command()
@model_argument()
@click.option("--board", "-b", default="host", show_default=True,
              help="'host' runs the Rust kernels in this process; an emulated board (qemu-an521, "
                   "qemu-riscv32) builds the firmware and runs it under QEMU; a real board (rp2040, "
                   "rp2350) needs --port and the build flashed on it.")
@click.option("--cores", "-n", type=click.IntRange(min=1), default=None,
              help="Cores to split the work over (default: 1 on host, all of a board's).")
@click.option("--inputs", "inputs_path", type=click.Path(dir_okay=False, path_type=Path),
              help=".npz with one array per model input (by tensor name, or arr_0, arr_1...); arrays of "
                   "shape (N, *input_shape) run N invocations in one session.")
@click.option("--outputs", "outputs_path", type=click.Path(dir_okay=False, path_type=Path), callback=writable_file,
              help="Write the model outputs here (.npz, keyed by output tensor name).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the random inputs used without --inputs.")
@click.option("--check", is_flag=True,
              help="Compare with the reference: TFLM for .tflite (int8 tensors identical, float32 within "
                   "1e-5 relative), onnxruntime for .onnx (NCHW; float32 within 1e-5 relative, QDQ int8 "
                   "within 1 LSB).")
@port_options(build_help="With --port: the build the board runs (build directory, manifest.json, .elf or "
                         ".uf2), built from MODEL; default: MODEL built for the board.")
def run(model: Path, board: str, cores: int, inputs_path: Path | None, outputs_path: Path | None,
        seed: int, check: bool, port: str | None, baud: int | None, build_path: Path | None,
        connect_timeout: float) -> None:
    """Run MODEL once (or once per frame of an --inputs sequence) and report its outputs;
    --check compares every invocation with the reference.

    With --port the board must already run the build (`arielml flash`): MODEL's build for
    the board (built here if needed, as `arielml build` would) or the one --build names.
    """
    ran = api.run(model, board, cores=cores, inputs=inputs_path, seed=seed, port=port, baud=baud,
                  build_path=build_path, connect_timeout=connect_timeout, log=log)
    if ran.where:
        click.echo(ran.where)
    for name, arr in ran.outputs.items():
        flat = arr.reshape(-1)
        shown = " ".join(str(v) for v in flat[:16]) + (" ..." if flat.size > 16 else "")
        click.echo(f"{name} {arr.dtype}{list(arr.shape)}: {shown}")
    if outputs_path:
        save_outputs(outputs_path, ran.outputs)
        click.echo(f"outputs written to {outputs_path}")
    if check:
        report = api.check(ran)
        click.echo(report.summary())
        if not report.ok:
            raise ArielError("outputs differ from the reference", exit_code=1)
