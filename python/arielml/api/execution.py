"""`run`: a model executed on the host (the Rust kernels in this process), on an emulated
board (built, then run under QEMU) or on a real board over its serial port, once or over a
sequence of frames in one session; and `check`, the comparison of every invocation with the
reference interpreter (one interpreter invoked as many times, as a stateful model needs)."""

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
from arielml.oracle.host import Session, execution_order
from arielml.oracle.reference import OnnxReference, TflmReference
from arielml.oracle.tensors_io import load_sequence, random_inputs
from arielml.pipeline import compile_model
from arielml.target.emulated import emulator_device, emulator_name
from arielml.target.serial_port import CONNECT_SECONDS, RUN_SECONDS, default_baud, port_build, port_device

Log = Callable[[str], None]
Frame = dict[str, np.ndarray]
Inputs = Path | Frame | list[Frame] | None


@dataclass
class Ran:
    """A run: the graph, per invocation its inputs and every tensor it computed (`steps`),
    whether the inputs were a sequence, and where it ran (one line, or "" for the host)."""

    model: Path
    graph: Graph
    steps: list[tuple[Frame, Frame]]
    sequence: bool = False
    where: str = ""
    lowered: list[Lowered] | None = field(default=None, repr=False)

    @property
    def inputs(self) -> Frame:
        """The first invocation's inputs."""
        return self.steps[0][0]

    @property
    def env(self) -> Frame:
        """The first invocation's tensors."""
        return self.steps[0][1]

    @property
    def outputs(self) -> Frame:
        """Output arrays; for a sequence with a leading axis of one entry per invocation."""
        if not self.sequence:
            return {name: self.env[name] for name in self.graph.outputs}
        return {name: np.stack([env[name] for _, env in self.steps]) for name in self.graph.outputs}


def _frames(g: Graph, inputs: Inputs, seed: int) -> tuple[list[Frame], bool]:
    if inputs is None:
        return [random_inputs(g, seed)], False
    if isinstance(inputs, (str, Path)):
        return load_sequence(g, Path(inputs))
    if isinstance(inputs, list):
        if not inputs:
            raise UsageError("an empty sequence of inputs")
        return [dict(x) for x in inputs], True
    return [dict(inputs)], False


def _session(steps: list, seq: bool) -> str:
    return f", {len(steps)} invocations in one session" if seq else ""


def run(model: Path, board: str = "host", *, cores: int | None = None, inputs: Inputs = None,
        seed: int = 0, port: str | None = None, baud: int | None = None, build_path: Path | None = None,
        connect_timeout: float = CONNECT_SECONDS, log: Log | None = None) -> Ran:
    """Run `model`. `inputs`: an .npz path (arrays of shape (N, *input_shape) make a
    sequence of N invocations, see tensors_io.load_sequence), a dict by input name (one
    invocation), a list of such dicts (a sequence), or None for seeded random inputs. All
    invocations of a sequence run in one session, in order. On a real board (`port`) the
    board must run the build already."""
    model = Path(model)
    log = log or (lambda m: None)
    if board == "host" and (port is not None or build_path is not None):
        raise UsageError("--port and --build need a board (--board rp2040, ...), not host")
    if port is None and (build_path is not None or baud is not None):
        raise UsageError("--build and --baud go with --port")
    if board == "host":
        c = compile_model(model, cores=cores or 1)
        frames, seq = _frames(c.graph, inputs, seed)
        session = Session(c.graph, c.tasks, execution_order(c.schedule), c.lowered)
        steps = [(x, session.invoke(x)) for x in frames]
        return Ran(model, c.graph, steps, seq, lowered=c.lowered)
    b = get_board(board)
    if port is not None:
        built, g = port_build(b, model=model, build_path=build_path, cores=cores, log=log)
        frames, seq = _frames(g, inputs, seed)
        with port_device(built, port, baud or default_baud(b), connect_timeout=connect_timeout, log=log) as dev:
            steps = [(x, dev.infer(x, timeout=RUN_SECONDS).outputs) for x in frames]
            firmware = dev.hello.firmware
        return Ran(model, g, steps, seq, f"ran on {b.name} over {port} ({firmware}, build {built.out}), "
                                         f"{built.manifest['cores']} core(s)" + _session(steps, seq))
    if not b.emulated:
        raise UsageError(f"--board {board} is a real board: give its serial port with --port "
                         f"(e.g. /dev/ttyACM0) once the build is on it (`arielml flash`)")
    built = build_model(model, b, cores=cores, log=log)
    g = built.compiled.graph
    frames, seq = _frames(g, inputs, seed)
    with emulator_device(built, b) as dev:
        steps = [(x, dev.infer(x).outputs) for x in frames]
    return Ran(model, g, steps, seq, f"ran on {b.name} ({emulator_name(b)}), {built.manifest['cores']} core(s)"
               + _session(steps, seq), lowered=built.compiled.lowered)


@dataclass
class Verdict:
    """The reference's verdict on every invocation of a run (one report per invocation)."""

    reports: list

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.reports)

    def summary(self) -> str:
        if len(self.reports) == 1:
            return self.reports[0].summary()
        bad = [k for k, r in enumerate(self.reports) if not r.ok]
        if bad:
            return (f"{len(bad)} of {len(self.reports)} invocations differ; first, invocation {bad[0]}: "
                    f"{self.reports[bad[0]].summary()}")
        return f"all {len(self.reports)} invocations match; last: {self.reports[-1].summary()}"


def check(ran: Ran) -> Verdict:
    """The reference's verdict on every invocation: TFLM for .tflite, onnxruntime for .onnx
    (each op also run on onnxruntime's own inputs, see check_onnx), one interpreter invoked
    once per frame, in order. A report with .ok and .summary()."""
    suffix = ran.model.suffix.lower()
    g = ran.graph
    if suffix == ".onnx":
        ref = OnnxReference(ran.model, tuple(n for n in g.tensors if n not in g.inputs))
        lowered = ran.lowered or lower_graph(g)
        return Verdict([check_onnx(g, ran.model, x, env, ref, lowered=lowered) for x, env in ran.steps])
    if suffix == ".tflite":
        ref = TflmReference(ran.model)
        return Verdict([check_tflite(g, ran.model, x, env, ref) for x, env in ran.steps])
    raise UsageError(f"--check: no reference for {ran.model.suffix or 'extensionless'} models "
                     f"(.tflite: TFLM, .onnx: onnxruntime)")
