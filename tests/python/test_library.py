"""The model as a library in the user's own firmware (`arielml build --emit lib`): the
generated crate's API, and a user application outside the generated tree
(examples/an521-app) that links it, runs the model on both cores of qemu-an521 and
prints the result, bit-exact with TFLM."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from _models import model_path
from arielml import api
from arielml.boards import REPO_ROOT, get_board
from arielml.build.cargo import build_crate
from arielml.codegen.library import generate_library
from arielml.errors import UsageError
from arielml.plan.arena import plan_arena
from arielml.target.qemu import run_to_exit

KWS = model_path("kws_ref_model.tflite")
AN521 = get_board("qemu-an521")


def test_the_crate_declares_the_model_and_a_typed_api(tmp_path):
    c = api.compile(KWS, board=AN521, cores=2)
    crate = generate_library(c, plan_arena(c), AN521, tmp_path, "kws")
    lib = crate.files["src/lib.rs"].decode()
    g = c.graph
    (x,), (y,) = (g.tensor(n) for n in g.inputs), (g.tensor(n) for n in g.outputs)
    assert f"pub fn run<P: Platform>(&mut self, input0: &[i8; {x.type.numel}], output0: &mut [i8; {y.type.numel}])" in lib
    assert f'pub const MODEL_SHA256: &str = "{g.digest}";' in lib and "pub const CORES: usize = 2;" in lib
    assert f"zero_point: {x.quant.zero_point[0]} }}" in lib
    assert 'name = "kws"' in crate.files["Cargo.toml"].decode()
    # no serial protocol, server, panic handler or entry of arielml's in the library
    assert not re.search(r"serve::run|panic_handler|entry!|#!\[no_main\]", lib + crate.files["src/model.rs"].decode())


def test_multi_image_boards_are_refused_for_now(tmp_path):
    with pytest.raises(UsageError, match="one image per core"):
        api.build_library(KWS, get_board("nrf5340"), tmp_path)


INT8_MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8", "str_ww_ref_model"]


def _input(lib, seed: int) -> np.ndarray:
    g = lib.compiled.graph
    (name,) = g.inputs
    return np.random.default_rng(seed).integers(-128, 128, size=g.tensor(name).shape, dtype=np.int8)


def _expect(model: Path, x: np.ndarray, text: str, pattern: str) -> None:
    """The scores the application printed are the host run's, and the host run is TFLM's."""
    m = re.search(pattern + r" top class (\d+) scores((?: -?\d+)+)", text)
    assert m, text
    scores = np.array([int(v) for v in m.group(2).split()], np.int8)
    g = api.load(model)
    host = api.run(model, "host", cores=2, inputs={g.inputs[0]: x})
    (out,) = host.outputs.values()
    assert np.array_equal(scores, out.reshape(-1))
    assert int(m.group(1)) == int(np.argmax(out.reshape(-1)))
    assert api.check(host).ok  # the host run is TFLM's, byte for byte


@pytest.mark.qemu
@pytest.mark.parametrize("cores", [1, 2])
@pytest.mark.parametrize("name", INT8_MODELS)
def test_a_rust_application_runs_the_library_bit_exact(tmp_path, name, cores):
    """examples/an521-app: its own entry, the generated library as a dependency."""
    model = model_path(f"{name}.tflite")
    lib = api.build_library(model, AN521, tmp_path / "model", cores=cores, name="model")
    x = _input(lib, 5)
    (tmp_path / "model" / "input.bin").write_bytes(x.tobytes())
    app = tmp_path / "app"
    shutil.copytree(REPO_ROOT / "examples" / "an521-app", app, ignore=shutil.ignore_patterns("target", "Cargo.lock"))
    toml = app / "Cargo.toml"
    toml.write_text(toml.read_text().replace('"../../firmware/', f'"{(REPO_ROOT / "firmware").as_posix()}/'))
    shutil.copyfile(REPO_ROOT / "Cargo.lock", app / "Cargo.lock")
    built = build_crate(AN521, "an521-app", manifest=toml, binary="an521-app", image=0)
    result = run_to_exit(AN521, built.elf, timeout=300)
    assert result.exit_code == 0, result.text
    _expect(model, x, result.text, rf"on {cores} cores:")


C_FLAGS = ["-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16", "-O2", "-ffreestanding",
           "-nostartfiles", "-Wl,--gc-sections", "-Wl,-z,noexecstack", "--specs=nano.specs"]


@pytest.mark.qemu
@pytest.mark.parametrize("cores", [1, 2])
@pytest.mark.parametrize("name", ["kws_ref_model", "vww_96_int8"])
def test_a_c_program_links_the_static_library_bit_exact(tmp_path, name, cores):
    """examples/an521-c: C start-up for both cores, Debian's arm-none-eabi-gcc and newlib,
    the model's libmodel.a and model.h."""
    model = model_path(f"{name}.tflite")
    lib = api.build_library(model, AN521, tmp_path / "lib", cores=cores, name="model", staticlib=True)
    a = lib.manifest["artifacts"]
    header = (lib.out / a["header"]).read_text()
    assert "void model_run(const int8_t *input0, int8_t *output0);" in header
    assert f'#define MODEL_MODEL_SHA256 "{lib.compiled.graph.digest}"' in header
    assert f"#define MODEL_CORES {cores}" in header
    x = _input(lib, 9)
    (tmp_path / "input.h").write_text(
        f"static const int8_t INPUT[{x.size}] = {{{', '.join(map(str, x.reshape(-1)))}}};\n")
    src = REPO_ROOT / "examples" / "an521-c"
    elf = tmp_path / "app.elf"
    cc = shutil.which("arm-none-eabi-gcc")
    assert cc, "arm-none-eabi-gcc (Debian gcc-arm-none-eabi, installed by scripts/setup.sh) is missing"
    proc = subprocess.run([cc, *C_FLAGS, "-T", str(src / "an521.ld"), "-I", str(tmp_path), "-I", str(lib.out / "include"),
                           str(src / "startup.c"), str(src / "main.c"), str(lib.out / a["staticlib"]), "-lc", "-lgcc",
                           "-o", str(elf)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = run_to_exit(AN521, elf, timeout=300)
    assert result.exit_code == 0, result.text
    _expect(model, x, result.text, "c:")


def _rp2040_app(tmp_path: Path, cores: int, x: np.ndarray):
    """examples/rp2040-app built against a `cores`-core library of kws: (ELF, library)."""
    board = get_board("rp2040")
    work = tmp_path / f"{cores}c"
    lib = api.build_library(KWS, board, work / "model", cores=cores, name="model")
    (work / "model" / "input.bin").write_bytes(x.tobytes())
    app = work / "app"
    shutil.copytree(REPO_ROOT / "examples" / "rp2040-app", app, ignore=shutil.ignore_patterns("target", "Cargo.lock"))
    shutil.copyfile(REPO_ROOT / "Cargo.lock", app / "Cargo.lock")
    built = build_crate(board, "rp2040-app", manifest=app / "Cargo.toml", binary="rp2040-app", image=0)
    elf = work / "rp2040-app.elf"
    shutil.copyfile(built.elf, elf)
    return elf, lib


@pytest.mark.qemu
def test_an_rp2040_hal_application_links_the_library(tmp_path):
    """examples/rp2040-app starts core 1 with rp2040-hal's Multicore::spawn. The two-core
    build is linked, fits the RP2040 and becomes a UF2 (no second core is emulated here);
    the one-core build runs in rp2040js, bit-exact with TFLM."""
    from arielml.build.elf import memory_use
    from arielml.build.uf2 import write_uf2
    from arielml.target.rp2040js import Rp2040jsSession

    board = get_board("rp2040")
    x = np.random.default_rng(3).integers(-128, 128, size=(1, 49, 10, 1), dtype=np.int8)
    elf2, lib2 = _rp2040_app(tmp_path, 2, x)
    assert lib2.manifest["cores"] == 2
    use = memory_use(elf2, board)
    assert use.flash_bytes <= board.memory("flash").size and use.ram_bytes <= board.memory("ram").size
    uf2 = write_uf2(elf2, tmp_path / "app.uf2", board)
    assert uf2.stat().st_size % 512 == 0 and uf2.read_bytes()[:4] == b"UF2\n"
    elf1, _ = _rp2040_app(tmp_path, 1, x)
    with Rp2040jsSession(elf1, timeout=120.0) as s:
        text, until = b"", time.monotonic() + 110
        while b"scores" not in text or not text.endswith(b"\n"):
            text += s.port.read(256)
            s.check_alive()
            assert time.monotonic() < until, text
    m = re.search(rb"rp2040: 1 core\(s\): top class (\d+) scores((?: -?\d+)+)", text)
    assert m, text
    g = api.load(KWS)
    host = api.run(KWS, "host", inputs={g.inputs[0]: x.reshape(g.tensor(g.inputs[0]).shape)})
    (out,) = host.outputs.values()
    assert np.array_equal(np.array([int(v) for v in m.group(2).split()], np.int8), out.reshape(-1))
    assert api.check(host).ok


@pytest.mark.slow
def test_the_library_build_reports_its_memory_as_the_firmware_build_does(tmp_path, capsys):
    from arielml.cli import main

    with pytest.raises(SystemExit) as e:
        main(["build", str(KWS), "--board", "rp2040", "--emit", "lib", "--out", str(tmp_path / "lib")])
    assert e.value.code == 0
    out = capsys.readouterr().out
    m = re.search(r"arena ([\d,]+) B, runtime state ([\d,]+) B, constants ([\d,]+) B; with stacks and code about "
                  r"([\d,]+) of ([\d,]+) B RAM, ([\d,]+) of ([\d,]+) B flash", out)
    assert m, out
    arena, runtime, consts, ram, board_ram, flash, board_flash = (int(v.replace(",", "")) for v in m.groups())
    rp = get_board("rp2040")
    assert ram > arena + runtime and flash > consts and (board_ram, board_flash) == (rp.memory("ram").size, rp.memory("flash").size)
