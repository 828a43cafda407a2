"""`arielml inspect MODEL`: what a model costs, op by op (wraps arielml.api.inspect)."""

from __future__ import annotations

import json

import click

from arielml.api.inspect import Report, inspect_model
from arielml.errors import UsageError


def _shapes(shapes: list[list[int]]) -> str:
    return " ".join("x".join(str(d) for d in s) or "scalar" for s in shapes)


def _table(report: Report) -> str:
    head = ("#", "op", "inputs", "outputs", "dtype", "MACs", "weights B", "activations B")
    rows = [(str(r.index), r.kind, _shapes(r.input_shapes), _shapes(r.output_shapes), r.dtype,
             f"{r.macs:,}", f"{r.weight_bytes:,}", f"{r.activation_bytes:,}")
            for r in report.rows]
    widths = [max(len(x[c]) for x in [head, *rows]) for c in range(len(head))]
    numeric = {0, 5, 6, 7}  # right-align numbers

    def fmt(cells) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    lines = [fmt(head), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
    return "\n".join(lines)


def _summary(report: Report) -> str:
    return "\n".join([
        f"ops: {len(report.rows)}",
        f"total MACs: {report.total_macs:,}",
        f"weights: {report.total_weight_bytes:,} bytes",
        f"activations (sum of all tensors): {report.total_activation_bytes:,} bytes",
        f"peak activations (graph order): {report.peak_activation_bytes:,} bytes",
    ] + ([f"variables (state kept across invocations): {report.state_bytes:,} bytes"] if report.state_bytes else []))


@click.command()
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--no-passes", is_flag=True, help="Report the graph as imported, unoptimized.")
def inspect(model: str, as_json: bool, no_passes: bool) -> None:
    """Show each op of MODEL (.tflite or .onnx) with shapes, MACs and memory."""
    report = inspect_model(model, optimize=not no_passes)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    elif not report.unsupported:
        click.echo(f"model: {report.model}")
        click.echo(_table(report))
        click.echo(_summary(report))
    if report.unsupported:
        listing = ", ".join(f"{k} x{v}" for k, v in sorted(report.unsupported.items()))
        raise UsageError(f"{model}: unsupported ops: {listing}")
