"""The ESP32-C3 board (esp-hal): board file, a board crate outside the Cargo workspace with a
Cargo.lock of its own, firmware for every MLPerf Tiny int8 model on its one core, ELFs whose
sections sit in the chip's memory windows, and app images that esptool (Espressif's own tool:
an independent reader) makes from them and accepts. Models too big are refused before
compiling, with the numbers; one that only an overstated RAM lets through is refused by
esp-hal's link. `arielml flash` drives espflash or esptool; `doctor` reports both.

No emulator runs the ESP32-C3 here, so these tests check the built images, not a run.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from _models import MODELS_DIR
from arielml.boards import BOARDS_DIR, REPO_ROOT, get_board
from arielml.build import build_model, check_fit
from arielml.codegen import generate_crate
from arielml.build.cargo import _write_linker_dir, cargo_command, linker_script
from arielml.build.toolchain import RustToolchain
from arielml.codegen.crate import lockfile
from arielml.errors import ArielError, UsageError
from arielml.pipeline import compile_model
from arielml.plan.arena import plan_arena
from arielml.target.doctor import check_board

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

BOARD = get_board("esp32c3")
TEST_BOARDS = Path(__file__).resolve().parents[1] / "boards"
CRATE = REPO_ROOT / "firmware" / "boards" / "esp32c3"
INT8_MODELS = ["kws_ref_model", "vww_96_int8", "ad01_int8", "pretrainedResnet_quant", "str_ww_ref_model"]

# esp-hal 1.x's memory map for the ESP32-C3 (ld/esp32c3/memory.x) and what the board file
# keeps of it: DRAM 0x3FC8_0000 + 313 KiB, of which 8 KiB for esp-hal itself; IRAM (the same
# SRAM) from 0x4038_0000; the app partition (0x10000..0x400000 of 4 MiB) through the DROM
# and IROM windows, less two 64 KiB MMU pages for the rest of the app image.
DRAM, DRAM_END = 0x3FC8_0000, 0x3FC8_0000 + 313 * 1024
RAM_SIZE = 313 * 1024 - 8 * 1024
IRAM = 0x4038_0000
DROM, IROM = 0x3C00_0000, 0x4200_0000
PARTITION = 0x3F_0000
FLASH_SIZE = PARTITION - 0x2_0000
APP_DESC_MAGIC = 0xABCD5432  # esp_app_desc_t.magic_word (ESP-IDF)


def test_board_file():
    b = BOARD
    assert [c.arch for c in b.cores] == ["rv32imc"]
    assert b.targets == ("riscv32imc-unknown-none-elf",)
    assert b.cores[0].clock_hz == 160_000_000
    assert b.firmware.counter_hz == b.cores[0].clock_hz  # the performance counter counts cycles
    assert not b.emulated
    ram, flash = b.memory("ram"), b.memory("flash")
    assert (ram.origin, ram.size) == (DRAM, RAM_SIZE)  # the RAM the fit check uses comes first
    windows = {m.name: (m.kind, m.origin, m.size) for m in b.memories}
    assert windows == {"dram": ("ram", DRAM, RAM_SIZE), "iram": ("ram", IRAM, 313 * 1024 - 16 * 1024),
                       "drom": ("flash", DROM, FLASH_SIZE), "irom": ("flash", IROM, FLASH_SIZE)}
    assert flash.size == FLASH_SIZE
    fw = b.firmware
    assert (fw.crate, fw.runtime, fw.formats, fw.esp_chip) == ("esp32c3", "esp-hal", ("elf",), "esp32c3")
    assert fw.stack_bytes == 32768 and fw.serial_baud == 115_200
    assert fw.uf2_family is None and fw.boot2_bytes == 0 and not fw.start_block


def test_board_crate_has_a_workspace_and_lockfile_of_its_own():
    """esp-hal's riscv-rt 0.16 and riscv-virt's riscv-rt 0.18 both declare `links =
    "riscv-rt"`: they cannot share one resolve, so the crate is excluded from the root one."""
    root = tomllib.loads((REPO_ROOT / "Cargo.toml").read_text())["workspace"]
    assert "firmware/boards/esp32c3" in root["exclude"]
    assert "firmware/boards/esp32c3" not in root["members"]
    manifest = tomllib.loads((CRATE / "Cargo.toml").read_text())
    assert "workspace" in manifest and manifest["package"]["name"] == "arielml-board-esp32c3"
    assert not (CRATE / "memory.x").exists()  # esp-hal's build script writes the memory map

    def versions(lock: Path) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for p in tomllib.loads(lock.read_text())["package"]:
            out.setdefault(p["name"], []).append(p["version"])
        return out

    own, shared = versions(CRATE / "Cargo.lock"), versions(REPO_ROOT / "Cargo.lock")
    assert own["esp-hal"][0].startswith("1.") and own["riscv-rt"] == ["0.16.0"]
    assert "arielml-runtime" in own
    assert "esp-hal" not in shared and "0.18.0" in shared["riscv-rt"]


def test_generated_crates_start_from_the_board_crates_lockfile():
    assert lockfile(BOARD) == CRATE / "Cargo.lock"
    for name in ("rp2350", "qemu-riscv32"):  # board crates in the workspace: its lockfile
        assert lockfile(get_board(name)) == REPO_ROOT / "Cargo.lock"


TOOLCHAIN = RustToolchain(Path("/usr/bin/rustc"), Path("/usr/bin/cargo"), "rustc 1.96.0", "build-std",
                          Path("/usr/bin/ld.lld-19"))


def test_esp_hal_links_with_its_own_script_and_memory_map(tmp_path):
    with pytest.raises(ArielError, match="links with its own memory map"):
        linker_script(BOARD)
    assert _write_linker_dir(BOARD) is None
    cmd, env = cargo_command(TOOLCHAIN, BOARD.targets[0], "pkg", [], None, BOARD, tmp_path / "Cargo.toml")
    flags = cmd[cmd.index("--") + 1:]
    assert "link-arg=-Tlinkall.x" in flags and "link-arg=-Tlink.x" not in flags
    assert not any(f.startswith("native=") for f in flags)
    assert env["ESP_HAL_CONFIG_ENSURE_MAIN_STACK_MINIMUM"] == "32768"
    assert "-Zbuild-std=core" in cmd


def test_other_runtimes_keep_arielmls_memory_map(tmp_path):
    board = get_board("rp2350")
    link_dir = _write_linker_dir(board)
    assert (link_dir / "memory.x").read_text() == linker_script(board)
    cmd, env = cargo_command(TOOLCHAIN, board.targets[0], "pkg", [], link_dir, board, tmp_path / "Cargo.toml")
    flags = cmd[cmd.index("--") + 1:]
    assert "link-arg=-Tlink.x" in flags and f"native={link_dir}" in flags
    key = "ESP_HAL_CONFIG_ENSURE_MAIN_STACK_MINIMUM"
    assert env.get(key) == os.environ.get(key)  # only what the caller's environment had


ESP_TEXT = (BOARDS_DIR / "esp32c3.toml").read_text()
RP_TEXT = (BOARDS_DIR / "rp2350.toml").read_text()


@pytest.mark.parametrize("name,text,needle", [
    ("esp32c3", ESP_TEXT.replace('esp_chip = "esp32c3"', ""), r"'firmware\.esp_chip' is needed with runtime 'esp-hal'"),
    ("esp32c3", ESP_TEXT.replace('formats = ["elf"]', 'formats = ["elf", "bin"]'),
     r"'firmware\.formats' must be \[\"elf\"\] with runtime 'esp-hal'"),
    ("esp32c3", ESP_TEXT.replace('runtime = "esp-hal"', 'runtime = "esp-idf"'),
     r"'firmware\.runtime' must be one of \['cortex-m-rt', 'esp-hal', 'riscv-rt'\]"),
    ("esp32c3", ESP_TEXT.replace('esp_chip = "esp32c3"', "esp_chip = 3"), r"'firmware\.esp_chip' must be a string"),
    ("rp2350", RP_TEXT + 'esp_chip = "esp32c3"\n', r"'firmware\.esp_chip' is needed with runtime 'esp-hal', and only"),
])
def test_bad_esp_board_files_are_refused(tmp_path, name, text, needle):
    p = tmp_path / f"{name}.toml"
    p.write_text(text)
    with pytest.raises(UsageError, match=needle):
        get_board(str(p))


def _fit(name: str, board, cores: int = 1) -> dict:
    c = compile_model(MODELS_DIR / f"{name}.tflite", board=board, cores=cores)
    arena = plan_arena(c)
    return check_fit(board, c, arena, generate_crate(c, arena, board, Path('unwritten')))


@pytest.mark.parametrize("name", INT8_MODELS)
def test_every_mlperf_int8_model_fits_the_one_core(name):
    fit = _fit(name, BOARD)  # raises UsageError when it does not fit
    assert fit["ram_estimate"] <= RAM_SIZE and fit["flash_estimate"] <= FLASH_SIZE
    assert fit["stack_bytes"] == 32768  # one core, one stack


SMALL = get_board(str(TEST_BOARDS / "esp32c3-small.toml"))  # 48 KiB of RAM, 256 KiB of flash


@pytest.mark.parametrize("name,refused", [
    ("kws_ref_model", "RAM"), ("vww_96_int8", "RAM"), ("pretrainedResnet_quant", "RAM"),
    ("ad01_int8", "flash"), ("str_ww_ref_model", None),
])
def test_small_board_refuses_what_does_not_fit_with_the_numbers(name, refused):
    if refused is None:
        assert _fit(name, SMALL)["ram_estimate"] <= 48 * 1024
        return
    with pytest.raises(UsageError) as e:
        _fit(name, SMALL)
    msg = str(e.value)
    assert f"does not fit esp32c3-small's {refused}" in msg
    have = 48 * 1024 if refused == "RAM" else 256 * 1024
    assert msg.endswith(f"board has {have:,}")
    need = int(re.search(r"needs (?:about )?([\d,]+) bytes", msg).group(1).replace(",", ""))
    assert need > have


def big_arena_model(path: Path) -> Path:
    """One int8 1x1 max pool over 144,000 bytes: a 288,000-byte arena (input and output)."""
    sys.path.insert(0, str(REPO_ROOT / "models"))
    from tflite_test_models import Builder

    b = Builder()
    x = b.act([1, 120, 120, 10], "int8", (0.05, 0))
    y = b.op("MAX_POOL_2D", [x], [b.act([1, 120, 120, 10], "int8", (0.05, 0))], "Pool2DOptions",
             padding=1, strideH=1, strideW=1, filterHeight=1, filterWidth=1)
    path.write_bytes(b.build([x], [y]))
    return path


def test_model_too_big_for_the_real_ram_is_refused_before_compiling(tmp_path):
    model = big_arena_model(tmp_path / "big.tflite")
    proc = subprocess.run([sys.executable, "-m", "arielml", "build", str(model), "--board", "esp32c3",
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    m = re.fullmatch(r"error: big\.tflite does not fit esp32c3's RAM: needs ([\d,]+) bytes \(arena 288,000 \+ "
                     r"runtime ([\d,]+) \+ stacks 32,768\), board has ([\d,]+)", lines[0])
    assert m, lines[0]
    need, runtime, have = (int(g.replace(",", "")) for g in m.groups())
    assert need == 288_000 + runtime + 32_768 and have == RAM_SIZE < need
    assert not (tmp_path / "out" / "crate").exists()  # refused before generating anything


@pytest.mark.slow
def test_esp_hal_link_refuses_what_overstated_ram_lets_through(tmp_path):
    """On a board file claiming 1 MiB of RAM the fit check passes; the real DRAM then leaves
    less than `stack_bytes` for the stack, and esp-hal's link says so."""
    over = get_board(str(TEST_BOARDS / "esp32c3-overstated.toml"))
    assert over.firmware.stack_bytes == BOARD.firmware.stack_bytes and over.firmware.crate == "esp32c3"
    model = big_arena_model(tmp_path / "big.tflite")
    with pytest.raises(ArielError, match="Main stack is smaller than 32768 bytes"):
        build_model(model, over, out=tmp_path / "out")


# --- firmware for every model ---------------------------------------------------------------

@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    return {name: build_model(MODELS_DIR / f"{name}.tflite", BOARD, out=tmp_path_factory.mktemp(name))
            for name in INT8_MODELS}


def _inside(board, addr: int, size: int) -> bool:
    return any(m.origin <= addr and addr + size <= m.origin + m.size for m in board.memories)


def check_esp32c3_elf(path: Path, package: str) -> None:
    """What the ESP-IDF bootloader and esp-hal's runtime need from the ELF."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        assert elf["e_machine"] == "EM_RISCV" and elf.elfclass == 32
        sections = {s.name: s for s in elf.iter_sections() if s["sh_flags"] & 0x2 and s["sh_size"]}
        text = sections[".text"]
        entry = elf["e_entry"]
        assert text["sh_addr"] <= entry < text["sh_addr"] + text["sh_size"]
        assert IROM <= entry < IROM + FLASH_SIZE  # code runs from flash, through IROM
        # the application descriptor opens the DROM window, where the bootloader reads it
        desc = sections[".flash.appdesc"]
        assert desc["sh_addr"] == DROM + 0x20 and desc["sh_size"] == 256
        data = desc.data()
        assert struct.unpack_from("<I", data)[0] == APP_DESC_MAGIC
        assert data[48:80].rstrip(b"\0").decode() == package  # project_name
        assert sections[".rodata"]["sh_addr"] > desc["sh_addr"]
        for name, s in sections.items():
            if name == ".stack":  # the rest of esp-hal's DRAM, the 8 KiB kept out of RAM_SIZE included
                assert s["sh_addr"] + s["sh_size"] == DRAM_END
                assert s["sh_size"] >= BOARD.firmware.stack_bytes
            else:
                assert _inside(BOARD, s["sh_addr"], s["sh_size"]), f"{name} at {s['sh_addr']:#x}"
        assert sections[".trap"]["sh_addr"] == IRAM  # trap code in IRAM...
        # ...and as many bytes of DRAM left unused for it
        assert sections[".rwdata_dummy"]["sh_addr"] == DRAM
        assert sections[".rwdata_dummy"]["sh_size"] == sections[".trap"]["sh_size"] + sections[".rwtext"]["sh_size"]


@pytest.mark.slow
@pytest.mark.parametrize("name", INT8_MODELS)
def test_model_builds_for_esp32c3_on_one_core(builds, name):
    b = builds[name]
    m = b.manifest
    assert m["board"] == "esp32c3" and m["cores"] == 1 and len(m["per_core"]) == 1
    assert {t["core"] for t in m["tasks"]} == {0} and len(m["per_core"][0]) == len(m["tasks"])
    assert m["artifacts"] == {"elf": "firmware.elf"}
    assert sorted(p.name for p in b.out.iterdir() if p.is_file()) == ["firmware.elf", "manifest.json"]
    mem = m["memory"]
    assert mem["board_flash_bytes"] == FLASH_SIZE and mem["board_ram_bytes"] == RAM_SIZE
    assert mem["constants_bytes"] < mem["elf_flash_bytes"] <= FLASH_SIZE
    assert mem["arena_bytes"] < mem["elf_ram_bytes"]
    assert mem["elf_ram_bytes"] + BOARD.firmware.stack_bytes <= RAM_SIZE
    # flash use adds up the DROM (constants) and IROM (code) windows
    assert mem["elf_flash_bytes"] >= mem["sections"][".rodata"] + mem["sections"][".text"]
    assert json.loads((b.out / "manifest.json").read_text())["model"]["file"] == f"{name}.tflite"
    crate = tomllib.loads((b.out / "crate" / "Cargo.toml").read_text())["package"]["name"]
    check_esp32c3_elf(b.elf, crate)
    # the generated crate was built with the board crate's pinned esp-hal
    lock = (b.out / "crate" / "Cargo.lock").read_text()
    pinned = re.search(r'name = "esp-hal"\nversion = "([^"]+)"', (CRATE / "Cargo.lock").read_text()).group(1)
    assert f'name = "esp-hal"\nversion = "{pinned}"' in lock


def esptool(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "esptool", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", INT8_MODELS)
def test_esptool_makes_a_valid_app_image_of_it(builds, name, tmp_path):
    """esptool's elf2image and image-info: the ELF as the bootloader will see it."""
    pytest.importorskip("esptool")
    b = builds[name]
    image = tmp_path / "app.bin"
    esptool("--chip", "esp32c3", "elf2image", "--output", str(image), str(b.elf))
    info = esptool("--chip", "esp32c3", "image-info", str(image))
    with open(b.elf, "rb") as f:
        elf = ELFFile(f)
        entry, text = elf["e_entry"], elf.get_section_by_name(".text")["sh_addr"]
    assert re.search(rf"Entry point: {entry:#010x}", info), info
    assert "Chip ID: 5 (ESP32-C3)" in info
    assert re.search(r"Checksum: 0x[0-9a-f]{2} \(valid\)", info)
    assert re.search(r"Validation hash: [0-9a-f]{64} \(valid\)", info)
    crate = tomllib.loads((b.out / "crate" / "Cargo.toml").read_text())["package"]["name"]
    assert re.search(rf"Project name: {crate}\n", info)
    segments = re.findall(r"^\s+\d+\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x[0-9a-f]+\s+(\S+)", info, re.M)
    kinds = {kind for _len, _addr, kind in segments}
    assert {"DROM", "IROM"} <= kinds <= {"DROM", "IROM", "DRAM", "IRAM", "PADDING"}, info
    assert int(segments[0][1], 16) == DROM + 0x20 and segments[0][2] == "DROM"  # app descriptor first
    assert any(int(addr, 16) == text and kind == "IROM" for _len, addr, kind in segments)
    # the pages the board file keeps out of the partition cover the padding, the RAM
    # segments' load images and the headers: the whole image fits the partition
    used = b.manifest["memory"]["elf_flash_bytes"]
    assert 0 < image.stat().st_size - used <= PARTITION - FLASH_SIZE
    assert image.stat().st_size <= PARTITION


# --- flashing and doctor ------------------------------------------------------------------------

def _fake_build(cache: Path) -> Path:
    d = cache / "builds" / "kws-esp32c3-1c"
    d.mkdir(parents=True)
    (d / "firmware.elf").write_bytes(b"\x7fELF fake")
    (d / "manifest.json").write_text(json.dumps({"board": "esp32c3", "artifacts": {"elf": "firmware.elf"}}))
    return d


def _fake_tool(bindir: Path, name: str, log: Path) -> None:
    bindir.mkdir(exist_ok=True)
    tool = bindir / name
    tool.write_text(f'#!/bin/sh\necho "$0 $@" >> "{log}"\n')
    tool.chmod(0o755)


def _flash(args, cache: Path, path: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=path, ARIELML_CACHE=str(cache))
    return subprocess.run([sys.executable, "-m", "arielml", "flash", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_flash_with_espflash_takes_the_elf(tmp_path):
    d = _fake_build(tmp_path / "cache")
    log = tmp_path / "called"
    _fake_tool(tmp_path / "bin", "espflash", log)
    _fake_tool(tmp_path / "bin", "esptool", tmp_path / "esptool-called")
    proc = _flash(["--board", "esp32c3"], tmp_path / "cache", str(tmp_path / "bin"))
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().split()[1:] == ["flash", "--chip", "esp32c3", str(d / "firmware.elf")]
    assert not (tmp_path / "esptool-called").exists()  # espflash is preferred
    assert "with espflash" in proc.stdout


@pytest.mark.parametrize("exe", ["esptool", "esptool.py"])
def test_flash_with_esptool_converts_then_writes_the_app(tmp_path, exe):
    d = _fake_build(tmp_path / "cache")
    log = tmp_path / "called"
    _fake_tool(tmp_path / "bin", exe, log)
    proc = _flash([str(d)], tmp_path / "cache", str(tmp_path / "bin"))
    assert proc.returncode == 0, proc.stderr
    first, second = [line.split()[1:] for line in log.read_text().splitlines()]
    image = first[first.index("--output") + 1]
    assert first == ["--chip", "esp32c3", "elf2image", "--output", image, str(d / "firmware.elf")]
    assert second == ["--chip", "esp32c3", "write_flash", "0x10000", image]
    assert not Path(image).exists()  # a temporary file


def test_flash_without_espflash_or_esptool_is_one_line_exit_3(tmp_path):
    _fake_build(tmp_path / "cache")
    proc = _flash(["--board", "esp32c3"], tmp_path / "cache", str(tmp_path / "empty-bin"))
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == ["error: cannot flash esp32c3: neither espflash nor esptool on PATH; install espflash "
                     "(`cargo install espflash`) or esptool (`pip install esptool`)"], proc.stderr


def test_failing_espflash_is_one_line_exit_4(tmp_path):
    _fake_build(tmp_path / "cache")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "espflash").write_text("#!/bin/sh\necho 'Error: No serial ports could be detected' >&2\nexit 1\n")
    (bindir / "espflash").chmod(0o755)
    proc = _flash(["--board", "esp32c3"], tmp_path / "cache", str(bindir))
    assert proc.returncode == 4
    assert proc.stderr.strip().splitlines()[-1] == "error: espflash failed: Error: No serial ports could be detected"


def test_doctor_reports_espflash_and_esptool_as_optional(tmp_path):
    _fake_tool(tmp_path / "bin", "espflash", tmp_path / "log")
    found = {f.what: f for f in check_board(BOARD, env_path=str(tmp_path / "bin")) if not f.what.startswith("rust")}
    assert set(found) == {"espflash", "esptool"}  # not picotool/probe-rs, and no QEMU
    assert found["espflash"].ok and found["espflash"].detail == str(tmp_path / "bin" / "espflash")
    assert not found["esptool"].ok and not found["esptool"].required
    assert found["esptool"].detail.startswith("not found (optional: flashing); fix: install espflash")
