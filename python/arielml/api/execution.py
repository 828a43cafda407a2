"""`run`: a model executed once on the host (the Rust kernels in this process), on an
emulated board (built, then run under QEMU) or on a real board over its serial port; and
`check`, the comparison of that run with the reference interpreter."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from arielml.boards import get_board
from arielml.build import build_model
from arielml.errors import UsageError
from arielml.ir import Graph
from arielml.lower import Lowered, lower_graph
from arielml.oracle.check import check_onnx, check_tflite
from arielml.oracle.host import execution_order, run_tasks
from arielml.oracle.tensors_io import load_inputs, random_inputs
from arielml.pipeline import compile_model
from arielml.target.device import qemu_device
from arielml.target.serial_port import CONNECT_SECONDS, RUN_SECONDS, default_baud, port_build, port_device

Log = Callable[[str], None]


@dataclass
class Ran:
    """One run: the graph, the inputs it was given, every tensor it computed (`env`), and
    where it ran (one line, or "" for the host)."""

    model: Path
    graph: Graph
    inputs: dict[str, np.ndarray]
    env: dict[str, np.ndarray]
    where: str = ""
    lowered: list[Lowered] | None = field(default=None, repr=False)

    @property
    def outputs(self) -> dict[str, np.ndarray]:
        return {name: self.env[name] for name in self.graph.outputs}


def _inputs(g: Graph, inputs: Path | dict | None, seed: int) -> dict[str, np.ndarray]:
    if inputs is None:
        return random_inputs(g, seed)
    return load_inputs(g, inputs) if isinstance(inputs, (str, Path)) else dict(inputs)


def run(model: Path, board: str = "host", *, cores: int | None = None, inputs: Path | dict | None = None,
        seed: int = 0, port: str | None = None, baud: int | None = None, build_path: Path | None = None,
        connect_timeout: float = CONNECT_SECONDS, log: Log | None = None) -> Ran:
    """Run `model` once. `inputs`: an .npz path, a dict by input name, or None for seeded
    random inputs. On a real board (`port`) the board must run the build already."""
    model = Path(model)
    log = log or (lambda m: None)
    if board == "host" and (port is not None or build_path is not None):
        raise UsageError("--port and --build need a board (--board rp2040, ...), not host")
    if port is None and (build_path is not None or baud is not None):
        raise UsageError("--build and --baud go with --port")
    if board == "host":
        c = compile_model(model, cores=cores or 1)
        x = _inputs(c.graph, inputs, seed)
        env = run_tasks(c.graph, x, c.tasks, execution_order(c.schedule), c.lowered)
        return Ran(model, c.graph, x, env, lowered=c.lowered)
    b = get_board(board)
    if port is not None:
        built, g = port_build(b, model=model, build_path=build_path, cores=cores, log=log)
        x = _inputs(g, inputs, seed)
        with port_device(built, port, baud or default_baud(b), connect_timeout=connect_timeout, log=log) as dev:
            env = dev.infer(x, timeout=RUN_SECONDS).outputs
            firmware = dev.hello.firmware
        return Ran(model, g, x, env, f"ran on {b.name} over {port} ({firmware}, build {built.out}), "
                                     f"{built.manifest['cores']} core(s)")
    if not b.emulated:
        raise UsageError(f"--board {board} is a real board: give its serial port with --port "
                         f"(e.g. /dev/ttyACM0) once the build is on it (`arielml flash`)")
    built = build_model(model, b, cores=cores, log=log)
    g = built.compiled.graph
    x = _inputs(g, inputs, seed)
    with qemu_device(built, b) as dev:
        env = dev.infer(x).outputs
    return Ran(model, g, x, env, f"ran on {b.name} (QEMU {b.qemu.machine}), {built.manifest['cores']} core(s)",
               lowered=built.compiled.lowered)


def check(ran: Ran):
    """The reference's verdict on a run: TFLM for .tflite, onnxruntime for .onnx (each op
    also run on onnxruntime's own inputs, see check_onnx). A report with .ok and .summary()."""
    suffix = ran.model.suffix.lower()
    if suffix == ".onnx":
        return check_onnx(ran.graph, ran.model, ran.inputs, ran.env,
                          lowered=ran.lowered or lower_graph(ran.graph))
    if suffix == ".tflite":
        return check_tflite(ran.graph, ran.model, ran.inputs, ran.env)
    raise UsageError(f"--check: no reference for {ran.model.suffix or 'extensionless'} models "
                     f"(.tflite: TFLM, .onnx: onnxruntime)")
