"""The firmware's one-line reports of a run gone wrong, read from the text between frames.

The runtime (firmware/runtime/src/fault.rs) prints, outside any frame:

    panic on core 0 in task 5: <message> (<file>:<line>)
    fault: HardFault on core 1 in task 17 (pc 0x10001234)
    stuck: core 1 waits for task 12 (core 0, running task 9)
    stuck: core 0 waits for core 1 to finish (running task 9)

("outside any task" in place of "in task N" / "running task N"). A panic or fault ends
the run; a stuck core keeps waiting, and the host gives up at once. `find_report` turns
the first such line into a `FirmwareFault` naming the core and task to blame.
"""

from __future__ import annotations

import re

from arielml.errors import EmulatorError

_TASK = r"(?:in task (?P<{0}>\d+)|outside any task)"
_RUNNING = r"(?:running task (?P<{0}>\d+)|outside any task)"
_LINES = [
    ("panic", re.compile(r"panic on core (?P<core>\d+) " + _TASK.format("task") + r": (?P<what>.*)")),
    ("fault", re.compile(r"fault: (?P<what>.+?) on core (?P<core>\d+) " + _TASK.format("task")
                         + r" \(pc (?P<pc>0x[0-9a-fA-F]+)\)")),
    ("stuck", re.compile(r"stuck: core (?P<waiter>\d+) waits for task (?P<dep>\d+) \(core (?P<core>\d+), "
                         + _RUNNING.format("task") + r"\)")),
    ("stuck", re.compile(r"stuck: core (?P<waiter>\d+) waits for core (?P<core>\d+) to finish \("
                         + _RUNNING.format("task") + r"\)")),
]


class FirmwareFault(EmulatorError):
    """The firmware reported a panic, a CPU fault or a stuck core.

    `core` and `task` say where to look: the core that panicked or faulted and its task,
    or, for a stuck core (`waiter`, waiting for task `dep`), the core it waits on and the
    task that core is running. `task` is None outside any task. `line` is the report.
    """

    def __init__(self, message: str, *, kind: str, core: int, task: int | None, line: str,
                 waiter: int | None = None, dep: int | None = None, what: str = ""):
        super().__init__(message)
        self.kind, self.core, self.task, self.line = kind, core, task, line
        self.waiter, self.dep, self.what = waiter, dep, what

    def with_message(self, message: str) -> FirmwareFault:
        return FirmwareFault(message, kind=self.kind, core=self.core, task=self.task, line=self.line,
                             waiter=self.waiter, dep=self.dep, what=self.what)


def _int(v: str | None) -> int | None:
    return None if v is None else int(v)


def parse_report(line: str) -> FirmwareFault | None:
    """The FirmwareFault one report line stands for, or None if it is not one."""
    line = line.strip()
    for kind, rx in _LINES:
        m = rx.fullmatch(line)
        if m:
            g = m.groupdict()
            return FirmwareFault(f"firmware {line}", kind=kind, core=int(g["core"]), task=_int(g.get("task")),
                                 line=line, waiter=_int(g.get("waiter")), dep=_int(g.get("dep")),
                                 what=g.get("what") or "")
    return None


def find_report(text: bytes | bytearray) -> FirmwareFault | None:
    """The first complete report line in the device's text, if any."""
    for raw in bytes(text).split(b"\n")[:-1]:  # the last piece is not a whole line yet
        fault = parse_report(raw.decode("utf-8", "replace"))
        if fault is not None:
            return fault
    return None
