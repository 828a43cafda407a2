"""`arielml run`: execute a model (host: through the Rust kernels) and optionally check it."""

from __future__ import annotations

from pathlib import Path

import click

from arielml.check import check_tflite
from arielml.errors import ArielError, UsageError
from arielml.pipeline import compile_model
from arielml.runners.host import execution_order, run_tasks
from arielml.tensors_io import load_inputs, random_inputs, save_outputs


@click.command()
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--board", "-b", default="host", show_default=True,
              help="'host' runs the Rust kernels in this process.")
@click.option("--cores", "-n", default=1, show_default=True, help="Cores to split the work over.")
@click.option("--inputs", "inputs_path", type=click.Path(dir_okay=False, path_type=Path),
              help=".npz with one array per model input (by tensor name, or arr_0, arr_1...).")
@click.option("--outputs", "outputs_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the model outputs here (.npz, keyed by output tensor name).")
@click.option("--seed", default=0, show_default=True, help="Seed of the random inputs used without --inputs.")
@click.option("--check", is_flag=True, help="Compare with TFLM (.tflite): every intermediate tensor must be identical.")
def run(model: Path, board: str, cores: int, inputs_path: Path | None, outputs_path: Path | None,
        seed: int, check: bool) -> None:
    """Run MODEL once and report its outputs; --check compares with the reference."""
    if not model.is_file():
        raise UsageError(f"{model}: no such file")
    if board != "host":
        raise UsageError(f"--board {board}: only 'host' is supported by run so far")
    compiled = compile_model(model, cores=cores)
    g = compiled.graph
    inputs = load_inputs(g, inputs_path) if inputs_path else random_inputs(g, seed)
    env = run_tasks(g, inputs, compiled.tasks, execution_order(compiled.schedule), compiled.lowered)
    outputs = {name: env[name] for name in g.outputs}
    for name, arr in outputs.items():
        flat = arr.reshape(-1)
        shown = " ".join(str(v) for v in flat[:16]) + (" ..." if flat.size > 16 else "")
        click.echo(f"{name} {arr.dtype}{list(arr.shape)}: {shown}")
    if outputs_path:
        save_outputs(outputs_path, outputs)
        click.echo(f"outputs written to {outputs_path}")
    if check:
        if model.suffix.lower() != ".tflite":
            raise UsageError("--check compares .tflite models with TFLM; ONNX checks are not built yet")
        report = check_tflite(g, model, inputs, env)
        click.echo(report.summary())
        if not report.ok:
            raise ArielError("outputs differ from the reference", exit_code=1)
