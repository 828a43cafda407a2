"""Drive a built firmware over its serial link: inputs in, RUN, outputs and counts out.

The same class talks to QEMU (through QemuSession's pyserial socket), to rp2040js and to
a real board's serial port (target/serial_port.py): only how the port is opened differs.
Before anything is sent, the firmware must be the build whose manifest we hold: same
model id and core count in HELLO, same number of tasks in its cycle table.
"""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass

import numpy as np

from arielml.boards import Board
from arielml.build import Build
from arielml.errors import EmulatorError
from arielml.target.protocol import FirmwareFault, HelloReply, Link, NoReply
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


def task_text(build, task: int | None) -> str:
    """'task 3 is FULLY_CONNECTED op 1, rows [0, 32], on core 1', from the build's manifest."""
    tasks = build.manifest.get("tasks", [])
    if task is None or not 0 <= task < len(tasks):
        return ""
    t = tasks[task]
    return f"task {task} is {t['kind']} op {t['op']}, rows {t['rows']}, on core {t['core']}"


def explain(fault: FirmwareFault, build) -> FirmwareFault:
    """`fault` with the kind and op of the tasks it names added from the manifest."""
    named = [task_text(build, t) for t in dict.fromkeys((fault.dep, fault.task)) if t is not None]
    return fault.with_message("; ".join([f"firmware {fault.line}", *filter(None, named)]))


def hung(e: NoReply, build) -> NoReply:
    """A RUN that got no reply and no report: say so, and what the firmware was to run."""
    per_core = ", ".join(f"core {k}: {len(tbl)}" for k, tbl in enumerate(build.manifest.get("per_core", [])))
    return NoReply(f"{e}: the firmware hung and no core reported a fault or a stuck wait "
                   f"({len(build.manifest.get('tasks', []))} tasks; {per_core})")


class Device:
    def __init__(self, link: Link, build: Build, *, hello: HelloReply | None = None):
        """`hello`: the device's answer when the caller already said HELLO (with retries)."""
        self.link, self.build = link, build
        hello = hello if hello is not None else link.hello()
        check_firmware(hello, build)
        self.hello = hello

    def infer(self, inputs: dict[str, np.ndarray], *, timeout: float = 120.0) -> RunResult:
        """One inference. A panic, fault or stuck core on the device is a FirmwareFault naming
        the core and the task (with its op from the manifest)."""
        try:
            return self._infer(inputs, timeout)
        except FirmwareFault as e:
            raise explain(e, self.build) from None

    def _infer(self, inputs: dict[str, np.ndarray], timeout: float) -> RunResult:
        m = self.build.manifest
        for i, spec in enumerate(m["inputs"]):
            data = np.ascontiguousarray(inputs[spec["name"]], dtype=spec["dtype"]).tobytes()
            self.link.set_input(i, data)
        try:
            self.link.run(timeout=timeout)
        except NoReply as e:
            raise hung(e, self.build) from None
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
        try:
            yield Device(link, build)
        except FirmwareFault as e:
            raise e.with_message(f"{e} ({_qemu_status(s)})") from None


def _qemu_status(s: QemuSession) -> str:
    """How the QEMU of a run that reported a fault ended: its status, or killed if it
    still runs (a stuck core keeps waiting; the session kills it on exit)."""
    try:
        return f"QEMU exited with status {s.proc.wait(timeout=2.0)}"
    except subprocess.TimeoutExpired:
        return "QEMU killed"

