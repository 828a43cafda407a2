"""The firmware's panic, fault and stuck-core lines (firmware/runtime/src/fault.rs) as the
host reads them: parsed into a FirmwareFault, found between frames, raised by Link."""

from __future__ import annotations

import pytest

from arielml.codegen.model_rs import INJECT_ENV, injection
from arielml.errors import UsageError
from arielml.target import protocol as p
from arielml.target.device import explain


@pytest.mark.parametrize("line,kind,core,task,waiter,dep", [
    ("panic on core 0 in task 5: index out of bounds (src/model.rs:12)", "panic", 0, 5, None, None),
    ("panic on core 1 outside any task: oops (src/lib.rs:3)", "panic", 1, None, None, None),
    ("fault: HardFault on core 1 in task 17 (pc 0x10001234)", "fault", 1, 17, None, None),
    ("fault: illegal instruction on core 3 outside any task (pc 0x80000010)", "fault", 3, None, None, None),
    ("stuck: core 1 waits for task 12 (core 0, running task 9)", "stuck", 0, 9, 1, 12),
    ("stuck: core 2 waits for task 4 (core 1, outside any task)", "stuck", 1, None, 2, 4),
    ("stuck: core 0 waits for core 1 to finish (running task 9)", "stuck", 1, 9, 0, None),
])
def test_report_lines_name_core_and_task(line, kind, core, task, waiter, dep):
    f = p.parse_report(line)
    assert (f.kind, f.core, f.task, f.waiter, f.dep, f.line) == (kind, core, task, waiter, dep, line)


def test_other_text_is_no_report():
    for line in ["panic: old format", "all 2 cores reported", "fault: HardFault", ""]:
        assert p.parse_report(line) is None
    assert p.find_report(b"fault: HardFault on core 0 in task 1 (pc 0x1") is None  # not a whole line yet


def test_decoder_keeps_text_between_frames_only():
    d = p.Decoder()
    frame = p.encode(p.Pong(b"panic on core 0 in task 1: x\n"), 3)
    events = d.feed(b"boot\n" + frame + b"\nfault: HardFault on core 1 in task 2 (pc 0x10)\n")
    assert [type(e) for e in events] == [p.Fault, p.Frame]  # the boot text, then the frame
    f = p.find_report(d.text)
    assert (f.kind, f.core, f.task) == ("fault", 1, 2)


class Port:
    """Answers nothing; says `text` once, then the link drops (QEMU exited)."""

    timeout = 0.01

    def __init__(self, text: bytes, drop: bool = True):
        self.text, self.drop = text, drop

    def write(self, data):
        return len(data)

    def read(self, n):
        if self.text:
            out, self.text = self.text, b""
            return out
        if self.drop:
            raise OSError("socket disconnected")
        return b""


@pytest.mark.parametrize("drop", [True, False])
def test_link_raises_the_report_not_a_lost_link(drop):
    link = p.Link(Port(b"\npanic on core 1 in task 3: boom (src/model.rs:9)\n", drop), timeout=0.2)
    with pytest.raises(p.FirmwareFault, match=r"^firmware panic on core 1 in task 3: boom"):
        link.run()


def test_report_split_over_reads_is_found_when_the_link_drops():
    class Split(Port):
        chunks = [b"fault: HardFault on co", b"re 0 in task 7 (pc 0x2)\n"]

        def read(self, n):
            if self.chunks:
                return self.chunks.pop(0)
            raise OSError("gone")

    with pytest.raises(p.FirmwareFault) as e:
        p.Link(Split(b""), timeout=0.5).run()
    assert (e.value.core, e.value.task) == (0, 7)


def test_explain_adds_the_ops_of_the_named_tasks():
    class B:
        manifest = {"tasks": [{"kind": "CONV_2D", "op": 0, "rows": [0, 4], "core": 0},
                              {"kind": "ADD", "op": 1, "rows": [0, 8], "core": 1}]}

    f = explain(p.parse_report("stuck: core 1 waits for task 0 (core 0, running task 0)"), B)
    assert str(f) == ("firmware stuck: core 1 waits for task 0 (core 0, running task 0); "
                      "task 0 is CONV_2D op 0, rows [0, 4], on core 0")
    assert (f.core, f.task, f.waiter) == (0, 0, 1)


def test_fault_injection_is_off_unless_the_test_variable_asks(monkeypatch):
    monkeypatch.delenv(INJECT_ENV, raising=False)
    assert injection() is None
    monkeypatch.setenv(INJECT_ENV, "hang:12")
    assert injection() == (12, "h")
    for bad in ["hang", "crash:1", "fault:-1", "fault:x"]:
        monkeypatch.setenv(INJECT_ENV, bad)
        with pytest.raises(UsageError, match=INJECT_ENV):
            injection()
