"""`run`, `bench` and `profile` with --port: a board on a serial port, without hardware.

Two stand-ins for a board:
- a pseudo-terminal (os.openpty) whose master side is a small fake device in a thread,
  speaking the protocol with knobs for boot noise, silence, line noise and wrong
  firmware; the CLI opens the slave side as it would open /dev/ttyACM0;
- rp2040js running a real one-core kws build, serving UART0 on a TCP port that the CLI
  opens as socket://127.0.0.1:PORT (the emulator starts when the CLI connects and stops
  when it disconnects, so each command gets a fresh one).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import select
import threading
import time
import tty

import numpy as np
import pytest
import serial

from _cli import cli, one_error_line
from _models import MODELS_DIR
from arielml.boards import REPO_ROOT, get_board, load_boards
from arielml.build import build_model
from arielml.oracle.check import check_tflite
from arielml.oracle.tensors_io import random_inputs
from arielml.pipeline import load
from arielml.schedule.profiles import file_digest, load_profile
from arielml.target import protocol as p
from arielml.target.rp2040js import Rp2040jsSession, require_runner
from arielml.target.serial_port import FLUSH, manifest_inputs

KWS = MODELS_DIR / "kws_ref_model.tflite"
RP2040 = get_board("rp2040")




# ------------------------------------------------------------------------- a fake board on a pty


def fake_manifest(tmp_path, *, model_id="0123456789abcdef", cores=2, **extra) -> dict:
    m = {"arielml": 1, "board": "rp2040", "cores": cores, "schedule": "static",
         "model": {"file": "fake.tflite", "sha256": "0" * 64, "id": model_id},
         "inputs": [{"name": "in", "dtype": "int8", "shape": [1, 40]}],
         "outputs": [{"name": "out", "dtype": "int8", "shape": [1, 4]}],
         "tasks": [{"id": 0, "kind": "CONV_2D", "core": 0}, {"id": 1, "kind": "FULLY_CONNECTED", "core": 1}]}
    m.update(extra)
    d = tmp_path / "fake-build"
    d.mkdir(exist_ok=True)
    (d / "manifest.json").write_text(json.dumps(m))
    return m


class FakeBoard:
    """The board end of a pty. `port` is the path the host opens.

    mode: "ok" answers everything; "silent" reads and never answers; "noise" answers
    every request with random bytes (a wrong baud rate); "vanish" closes its end when the
    first input arrives (a board unplugged mid-session). `boot_noise` is written before
    the first HELLO reply (boot messages, a broken frame). Each HELLO is counted.
    """

    def __init__(self, manifest: dict, *, mode="ok", boot_noise=b"", hello_cores=None, tasks=None,
                 ticks=(1000, 1500), total=2500, model_id=None):
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        self.port = os.ttyname(self.slave)
        self.m, self.mode, self.boot_noise = manifest, mode, boot_noise
        self.cores = hello_cores if hello_cores is not None else manifest["cores"]
        self.model_id = int(model_id or manifest["model"]["id"], 16)
        self.ticks = list(ticks) if tasks is None else [100] * tasks
        self.total = total
        self.hellos, self.runs, self.received = 0, 0, bytearray()
        self._open = [self.master, self.slave]
        self.inputs: dict[int, bytearray] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        for fd in self._open:
            os.close(fd)

    def _send(self, data: bytes) -> None:
        os.write(self.master, data)

    def _serve(self) -> None:
        dec = p.Decoder()
        rng = np.random.default_rng(7)
        while not self._stop.is_set():
            if not select.select([self.master], [], [], 0.02)[0]:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            self.received += data
            if self.mode == "noise":
                self._send(rng.integers(0, 256, len(data) + 8, dtype=np.uint8).tobytes())
                continue
            for ev in dec.feed(data):
                if isinstance(ev, p.Frame) and not self._answer(ev):
                    return

    def _answer(self, frame: p.Frame) -> bool:
        msg = p.decode(frame)
        if isinstance(msg, p.Hello):
            self.hellos += 1
        if self.mode == "silent":
            return True
        if isinstance(msg, p.Hello):
            noise, self.boot_noise = self.boot_noise, b""
            reply = p.HelloReply(p.PROTOCOL_VERSION, self.cores, p.MAX_PAYLOAD, self.model_id,
                                 "rp2040", "fake 1")
            self._send(noise + p.encode(reply, frame.seq))
            return True
        if isinstance(msg, p.SetInput):
            if self.mode == "vanish":
                self._open.remove(self.master)
                os.close(self.master)
                return False
            buf = self.inputs.setdefault(msg.tensor, bytearray())
            buf[msg.offset:msg.offset + len(msg.data)] = msg.data
            reply = p.Ack(p.MsgType.SET_INPUT)
        elif isinstance(msg, p.Run):
            self.runs += 1
            reply = p.Ack(p.MsgType.RUN)
        elif isinstance(msg, p.GetOutput):
            size = int(np.prod(self.m["outputs"][msg.tensor]["shape"]))
            data = bytes(self.inputs.get(0, b""))[:size].ljust(size, b"\0")  # output = input's head
            reply = p.Output(msg.tensor, size, msg.offset, data[msg.offset:msg.offset + msg.max_len])
        elif isinstance(msg, p.GetCycles):
            part = tuple(self.ticks[msg.first:msg.first + 200])
            reply = p.Cycles(self.total if self.runs else 0, len(self.ticks), msg.first,
                             part if self.runs else (0,) * len(part))
        else:
            reply = p.Error(p.ErrorCode.UNKNOWN_TYPE, frame.type, "fake")
        self._send(p.encode(reply, frame.seq))
        return True


# A frame whose length check fails, text, a lone sync byte and a frame with a bad CRC.
BOOT_NOISE = (b"\x00\xff rp2040 boot: core 1 did not answer\r\n" + b"\xa5\x5a\x07\x00\x00\x00"
              + bytes(range(256)).replace(b"\xa5", b"") + b"\xa5"
              + p.encode(p.Pong(b"x"), 3)[:-1] + b"\x00")


def test_bench_over_a_pty_after_boot_noise_reports_time_and_cycles(tmp_path, capsys):
    m = fake_manifest(tmp_path)
    with FakeBoard(m, boot_noise=BOOT_NOISE) as board:
        code, out, err = cli(capsys, "bench", "--board", "rp2040", "--port", board.port, "--build",
                             tmp_path / "fake-build", "--runs", 3, "--json", tmp_path / "b.json")
        assert code == 0, err
        assert board.runs == 3
        # The inputs went over whole: the seeded draw bench documents (same as random_inputs).
        assert bytes(board.inputs[0]) == manifest_inputs(m, 2)["in"].tobytes()
    f = json.loads((tmp_path / "b.json").read_text())
    # 1 MHz counter: 2500 ticks = 2.5 ms = 332,500 cycles at 133 MHz.
    assert (f["min"], f["median"], f["max"]) == (2500.0, 2500.0, 2500.0)
    assert f["cycles"] == {"min": 332500.0, "median": 332500.0, "max": 332500.0}
    assert f["counter_hz"] == 1_000_000 and f["clock_hz"] == 133_000_000 and f["runs"] == 3
    assert [(t["id"], t["core"], t["microseconds"], t["cycles"]) for t in f["tasks"]] == [
        (0, 0, 1000.0, 133000.0), (1, 1, 1500.0, 199500.0)]
    assert "min 2.500  median 2.500  max 2.500" in out
    assert re.search(r"task +1 core 1 FULLY_CONNECTED +1,500\.0 us +199,500 cycles", out), out


def test_text_before_the_first_frame_needs_no_retry(tmp_path, capsys):
    noise = b"boot log line\r\nanother \xa5 line\r\n\xa5"  # no frame at all, ends in half a sync
    with FakeBoard(fake_manifest(tmp_path), boot_noise=noise) as board:
        code, _, err = cli(capsys, "bench", "--board", "rp2040", "--port", board.port, "--build",
                           tmp_path / "fake-build", "--runs", 1)
        assert code == 0, err
        assert board.hellos == 1  # the reply after the noise was taken as it came


def test_silent_board_times_out_with_one_line(tmp_path, capsys):
    with FakeBoard(fake_manifest(tmp_path), mode="silent") as board:
        start = time.monotonic()
        code, out, err = cli(capsys, "bench", "--board", "rp2040", "--port", board.port, "--build",
                             tmp_path / "fake-build", "--connect-timeout", 1.5)
        seconds = time.monotonic() - start
        time.sleep(0.1)
        hellos, received = board.hellos, bytes(board.received)
    assert code == 4 and seconds < 4, (code, seconds)
    line = one_error_line(err)
    assert "no answer to HELLO" in line and "within 1.5 s" in line and "nothing came back" in line
    assert "arielml flash" in line and "--baud" in line
    assert hellos >= 2  # asked again...
    assert FLUSH in received  # ...after completing any half-received frame


def test_noise_instead_of_frames_suggests_the_baud_rate(tmp_path, capsys):
    with FakeBoard(fake_manifest(tmp_path), mode="noise") as board:
        code, _, err = cli(capsys, "bench", "--board", "rp2040", "--port", board.port, "--build",
                           tmp_path / "fake-build", "--connect-timeout", 1)
    assert code == 4
    line = one_error_line(err)
    assert "bytes came back but no HELLO reply" in line and "wrong baud rate" in line


@pytest.mark.parametrize("knob, words", [
    ({"model_id": "fedcba9876543210"}, "runs model fedcba9876543210, not 0123456789abcdef"),
    ({"hello_cores": 1}, "runs a 1-core build of fake.tflite"),
    ({"tasks": 3}, "has 3 tasks"),
])
def test_other_firmware_on_the_board_says_to_flash(tmp_path, capsys, knob, words):
    with FakeBoard(fake_manifest(tmp_path), **knob) as board:
        code, _, err = cli(capsys, "bench", "--board", "rp2040", "--port", board.port, "--build",
                           tmp_path / "fake-build")
        assert board.runs == 0  # nothing was run on the wrong firmware
    line = one_error_line(err)
    assert code == 4 and words in line
    assert f"arielml flash {tmp_path / 'fake-build'}" in line


def test_board_vanishing_mid_session_is_one_line(tmp_path, capsys):
    with FakeBoard(fake_manifest(tmp_path), mode="vanish") as board:
        code, _, err = cli(capsys, "bench", "--board", "rp2040", "--port", board.port, "--build",
                           tmp_path / "fake-build")
    assert code == 4
    assert f"serial port {board.port} failed" in one_error_line(err)


def test_run_check_over_a_port_catches_wrong_outputs(tmp_path, capsys):
    # A fake board that claims to run kws but echoes its input: --check must say so.
    g = load(KWS)
    sha = hashlib.sha256(KWS.read_bytes()).hexdigest()
    io = lambda names: [{"name": n, "dtype": g.tensor(n).dtype.value,  # noqa: E731
                         "shape": list(g.tensor(n).shape)} for n in names]
    m = fake_manifest(tmp_path, cores=1, model={"file": KWS.name, "sha256": sha, "id": "00" * 8},
                      inputs=io(g.inputs), outputs=io(g.outputs),
                      tasks=[{"id": 0, "kind": "CONV_2D", "core": 0}])
    with FakeBoard(m, ticks=(5,), total=5) as board:
        code, out, err = cli(capsys, "run", KWS, "--board", "rp2040", "--port", board.port, "--build",
                             tmp_path / "fake-build", "--check")
    assert code == 1 and "differ" in one_error_line(err)
    assert f"ran on rp2040 over {board.port} (fake 1" in out


# ------------------------------------------------------------------------- ports that do not open


def test_missing_port(tmp_path, capsys):
    fake_manifest(tmp_path)
    start = time.monotonic()
    code, _, err = cli(capsys, "bench", "--board", "rp2040", "--port", tmp_path / "ttyACM9", "--build",
                       tmp_path / "fake-build", "--connect-timeout", 0.5)
    assert time.monotonic() - start < 3
    assert code == 2 and "does not exist (waited 0.5 s)" in one_error_line(err)


def test_port_that_appears_late_is_waited_for(tmp_path, capsys):
    # A board with native USB re-enumerates after a reset: its device node comes back late.
    with FakeBoard(fake_manifest(tmp_path)) as board:
        late = tmp_path / "ttyACM0"
        threading.Timer(0.5, lambda: late.symlink_to(board.port)).start()
        code, _, err = cli(capsys, "bench", "--board", "rp2040", "--port", late, "--build",
                           tmp_path / "fake-build", "--runs", 1)
        assert code == 0, err
        assert board.runs == 1


def test_busy_port(tmp_path, capsys):
    with FakeBoard(fake_manifest(tmp_path)) as board:
        holder = serial.Serial(board.port, exclusive=True)
        try:
            code, _, err = cli(capsys, "bench", "--board", "rp2040", "--port", board.port, "--build",
                               tmp_path / "fake-build")
        finally:
            holder.close()
    assert code == 2 and "is busy" in one_error_line(err)


@pytest.mark.skipif(os.geteuid() == 0, reason="root opens any file")
def test_port_without_permission(tmp_path, capsys):
    fake_manifest(tmp_path)
    dev = tmp_path / "ttyS9"
    dev.write_bytes(b"")
    dev.chmod(0)
    code, _, err = cli(capsys, "bench", "--board", "rp2040", "--port", dev, "--build", tmp_path / "fake-build")
    assert code == 2 and "permission denied" in one_error_line(err)


def test_refused_socket_and_bad_urls(tmp_path, capsys):
    fake_manifest(tmp_path)
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        url = f"socket://127.0.0.1:{s.getsockname()[1]}"
    for port, words, status in ((url, "cannot open serial port", 2), ("nosuch://x", "--port nosuch://x", 2)):
        code, _, err = cli(capsys, "bench", "--board", "rp2040", "--port", port, "--build", tmp_path / "fake-build")
        assert code == status and words in one_error_line(err)
    code, _, err = cli(capsys, "bench", "--board", "rp2040", "--port", url, "--baud", 1200,
                       "--build", tmp_path / "fake-build")
    assert code == 2 and "bootloader" in one_error_line(err)


def test_real_board_without_port_and_bad_builds(tmp_path, capsys):
    code, _, err = cli(capsys, "bench", KWS, "--board", "rp2040")
    assert code == 2 and "--port" in one_error_line(err)
    code, _, err = cli(capsys, "run", KWS, "--board", "rp2350")
    assert code == 2 and "--port" in one_error_line(err)
    code, _, err = cli(capsys, "bench", "--board", "rp2040", "--port", "/dev/null", "--build", tmp_path)
    assert code == 2 and "no manifest.json" in one_error_line(err)
    fake_manifest(tmp_path)  # built from "fake.tflite", not kws
    code, _, err = cli(capsys, "run", KWS, "--board", "rp2040", "--port", "/dev/null", "--build",
                       tmp_path / "fake-build")
    assert code == 2 and "is not the model" in one_error_line(err)
    code, _, err = cli(capsys, "bench", "--board", "rp2350", "--port", "/dev/null", "--build",
                       tmp_path / "fake-build")
    assert code == 2 and "built for rp2040, not rp2350" in one_error_line(err)
    code, _, err = cli(capsys, "bench", "--board", "rp2040", "--port", "/dev/null", "--build",
                       tmp_path / "fake-build", "--schedule", "barrier")
    assert code == 2 and "has a static schedule" in one_error_line(err)
    code, _, err = cli(capsys, "bench", "--board", "rp2040", "--port", "/dev/null", "--build",
                       tmp_path / "fake-build", "--cores", 1)
    assert code == 2 and "is a 2-core build" in one_error_line(err)


def test_board_crates_take_the_baud_from_the_board_file():
    """Written once: each real board's crate sets its UART from the file's serial_baud
    (build.cargo.board_facts -> board_fact!("SERIAL_BAUD"))."""
    from arielml.build.cargo import board_facts

    checked = 0
    for board in load_boards():
        if board.firmware.serial_baud is None:
            assert board.emulated, f"{board.name}: a real board needs serial_baud"
            continue
        src = (REPO_ROOT / "firmware/boards" / board.firmware.crate / "src/lib.rs").read_text()
        assert 'const BAUD: u32 = arielml_runtime::board_fact!("SERIAL_BAUD");' in src, board.name
        assert re.findall(r"const BAUD: u32 = ([\d_]+);", src) == [], board.name
        assert board_facts(board)["ARIELML_BOARD_SERIAL_BAUD"] == str(board.firmware.serial_baud)
        checked += 1
    assert checked >= 2


# ------------------------------------------------------------------------- rp2040js as the board


@pytest.fixture(scope="module")
def kws_build(tmp_path_factory):
    require_runner()  # scripts/setup.sh installs node and rp2040js: missing is a failure
    return build_model(KWS, RP2040, cores=1, out=tmp_path_factory.mktemp("port") / "kws")


@pytest.mark.slow
def test_bench_over_socket_port_of_rp2040js(kws_build, tmp_path, capsys):
    with Rp2040jsSession(kws_build.elf, timeout=120.0, connect=False) as emu:
        code, out, err = cli(capsys, "bench", "--board", "rp2040", "--port", emu.url, "--build", kws_build.out,
                             "--runs", 2, "--json", tmp_path / "b.json", "--connect-timeout", 30)
    assert code == 0, err
    f = json.loads((tmp_path / "b.json").read_text())
    tasks = f["tasks"]
    assert f["runs"] == 2 and len(tasks) == len(kws_build.manifest["tasks"]) == 13
    assert 0 < f["min"] <= f["median"] <= f["max"]
    for t in tasks:
        assert t["cycles"] == pytest.approx(t["microseconds"] * 133)
    # One core: the tasks run one after another inside the measured inference.
    assert sum(t["microseconds"] for t in tasks) <= f["max"]
    assert sum(t["microseconds"] for t in tasks) > 0.9 * f["min"]
    convs = [t["cycles"] for t in tasks if t["kind"] == "CONV_2D"]
    assert len(convs) == 5 and min(convs) > 1e5
    assert len(re.findall(r"^  task +\d+ core 0 ", out, re.M)) == 13


@pytest.mark.slow
def test_run_check_over_socket_port_of_rp2040js(kws_build, tmp_path, capsys):
    with Rp2040jsSession(kws_build.elf, timeout=120.0, connect=False) as emu:
        code, out, err = cli(capsys, "run", KWS, "--board", "rp2040", "--port", emu.url, "--build",
                             kws_build.out, "--check", "--seed", 3, "--outputs", tmp_path / "o.npz",
                             "--connect-timeout", 30)
    assert code == 0, err
    assert "bit-exact with TFLM" in out
    g = kws_build.compiled.graph
    with np.load(tmp_path / "o.npz") as npz:
        outputs = {k: npz[k] for k in npz.files}
    report = check_tflite(g, KWS, random_inputs(g, 3), outputs)
    assert report.exact and set(outputs) == set(g.outputs), report.summary()


@pytest.mark.slow
def test_profile_over_socket_port_of_rp2040js(kws_build, capsys):
    # The one-core tiling's profiling build has the same tasks on the one core as kws_build.
    with Rp2040jsSession(kws_build.elf, timeout=120.0, connect=False) as emu:
        code, out, err = cli(capsys, "profile", KWS, "--board", "rp2040", "--cores", 1, "--runs", 1,
                             "--port", emu.url, "--connect-timeout", 30)
    assert code == 0, err
    prof = load_profile(file_digest(KWS), RP2040, 1)
    assert prof.unit == "cycles" and len(prof.task_instructions) == 13
    # Counter ticks (1 us) times 133 cycles: whole multiples of 133.
    assert all(c % 133 == 0 for c in prof.task_instructions)
    assert prof.total_instructions >= sum(prof.task_instructions) > 1e6
    assert f"{prof.total_instructions:,.0f} cycles on one core" in out
