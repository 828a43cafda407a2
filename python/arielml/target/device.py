"""Drive a built firmware over its serial link: inputs in, RUN, outputs and counts out.

The same class talks to QEMU (through QemuSession's pyserial socket), to rp2040js and to
a real board's serial port (target/serial_port.py): only how the port is opened differs.
Before anything is sent, the firmware must be the build whose manifest we hold: same
model id and core count in HELLO, same number of tasks in its cycle table.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from arielml.boards import Board
from arielml.build import Build
from arielml.errors import EmulatorError
from arielml.target.protocol import HelloReply, Link
from arielml.target.qemu import QemuSession


@dataclass
class RunResult:
    outputs: dict[str, np.ndarray]
    total_ticks: int
    task_ticks: list[int]


def flash_hint(build) -> str:
    return f"flash that build first (`arielml flash {build.out}`)"


def check_firmware(hello: HelloReply, build) -> None:
    """EmulatorError unless the device's HELLO matches `build` (anything with .manifest and
    .out): the model id is the model file's hash, so the core count tells builds of one
    model apart (the task count is checked by `check_tasks`)."""
    m = build.manifest
    want = int(m["model"]["id"], 16)
    if hello.model_id != want:
        raise EmulatorError(f"the {hello.board} device runs model {hello.model_id:016x}, not "
                            f"{want:016x} ({m['model']['file']}): {flash_hint(build)}")
    if hello.cores != m["cores"]:
        raise EmulatorError(f"the {hello.board} device runs a {hello.cores}-core build of "
                            f"{m['model']['file']}, {build.out} is a {m['cores']}-core one: "
                            f"{flash_hint(build)}")


def check_tasks(n: int, build) -> None:
    want = len(build.manifest["tasks"])
    if n != want:
        raise EmulatorError(f"the device's firmware has {n} tasks, {build.out} has {want} (another "
                            f"tiling of {build.manifest['model']['file']}): {flash_hint(build)}")


class Device:
    def __init__(self, link: Link, build: Build, *, hello: HelloReply | None = None):
        """`hello`: the device's answer when the caller already said HELLO (with retries)."""
        self.link, self.build = link, build
        hello = hello if hello is not None else link.hello()
        check_firmware(hello, build)
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
        check_tasks(len(per_task), self.build)
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
