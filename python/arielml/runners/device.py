"""Drive a built firmware over its serial link: inputs in, RUN, outputs and counts out.

The same class talks to QEMU (through QemuSession's pyserial socket) and, later, to a
board's /dev/tty port: only how the port is opened differs.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from arielml.boards import Board
from arielml.build import Build
from arielml.errors import EmulatorError
from arielml.protocol import Link
from arielml.runners.qemu import QemuSession


@dataclass
class RunResult:
    outputs: dict[str, np.ndarray]
    total_ticks: int
    task_ticks: list[int]


class Device:
    def __init__(self, link: Link, build: Build):
        self.link, self.build = link, build
        hello = link.hello()
        want = int(build.manifest["model"]["id"], 16)
        if hello.model_id != want:
            raise EmulatorError(f"the device runs model {hello.model_id:016x}, not {want:016x} "
                                f"({build.manifest['model']['file']}): flash the matching build")
        self.hello = hello

    def infer(self, inputs: dict[str, np.ndarray], *, timeout: float = 120.0) -> RunResult:
        m = self.build.manifest
        for i, spec in enumerate(m["inputs"]):
            data = np.ascontiguousarray(inputs[spec["name"]], dtype=spec["dtype"]).tobytes()
            self.link.set_input(i, data)
        self.link.run(timeout=timeout)
        outputs = {}
        for i, spec in enumerate(m["outputs"]):
            raw = self.link.output(i)
            outputs[spec["name"]] = np.frombuffer(raw, dtype=spec["dtype"]).reshape(spec["shape"]).copy()
        total, per_task = self.link.cycles()
        return RunResult(outputs, total, per_task)


@contextlib.contextmanager
def qemu_device(build: Build, board: Board, *, icount: bool = False, timeout: float = 600.0,
                extra_args: tuple[str, ...] = ()):
    """A Device for `build` running under QEMU; QEMU is killed on exit, whatever happens.

    A build with one image per core loads image 0 as the kernel and the others' flash
    images (.bin: their ELFs would reload the shared block's zero-filled segment, which
    QEMU refuses as overlapping) with QEMU's generic loader; image 0 releases their cores."""
    for k, im in enumerate(build.manifest.get("images", [])[1:], start=1):
        if "bin" not in im:
            raise EmulatorError(f"{board.name}: image {k} has no .bin for QEMU's loader (add 'bin' to formats)")
        origin = board.named(board.images[k].flash).origin
        extra_args = (*extra_args, "-device", f"loader,file={build.out / im['bin']},addr={origin:#x}")
    with QemuSession(board, build.elf, timeout=timeout, icount=icount, extra_args=extra_args) as s:
        link = Link(s.port, timeout=30.0)
        yield Device(link, build)
