"""The RP2350 in RISC-V mode (boards/rp2350-riscv.toml): board file, memory.x with the
IMAGE_DEF block at the flash origin, every MLPerf Tiny int8 model built for both Hazard3
cores, each image checked section by section against the board's memories, its IMAGE_DEF
block parsed from the ELF and from the UF2 (read by test_uf2's reader, not arielml's
writer) and `arielml flash` / `doctor` for the board.

The core 1 launch handshake itself is unit-tested against a model of the boot ROM in
firmware/runtime/src/launch.rs (`cargo test`). No emulator runs the RP2350: nothing here
runs the firmware.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from _models import MODELS_DIR
from arielml.boards import BOARDS_DIR, get_board
from arielml.build import build_model, check_fit
from arielml.build.cargo import linker_script
from arielml.build.uf2 import encode
from arielml.codegen import generate_crate
from arielml.errors import UsageError
from arielml.pipeline import compile_model
from arielml.plan.arena import plan_arena
from test_uf2 import parse_uf2, reassemble

BOARD = get_board("rp2350-riscv")
FAMILY = 0xE48BFF5A  # uf2families.json: "rp2350-riscv"
FLASH, FLASH_SIZE = 0x1000_0000, 4 * 1024 * 1024
RAM, RAM_SIZE = 0x2000_0000, 512 * 1024
INT8_MODELS = ["kws_ref_model", "vww_96_int8", "ad01_int8", "pretrainedResnet_quant", "str_ww_ref_model"]

# RP2350 datasheet, "Blocks and block loops" and the IMAGE_DEF items (picobin.h).
BLOCK_START, BLOCK_END = 0xFFFFDED3, 0xAB123579
ITEM_IMAGE_TYPE, ITEM_ENTRY_POINT, ITEM_LAST = 0x42, 0x44, 0xFF
EXE, SECURE, CPU_RISCV, CHIP_RP2350 = 0x0001, 0x0020, 0x0100, 0x1000


def parse_block(words: list[int]) -> dict:
    """One boot ROM block read item by item, as the boot ROM walks it: {item type: its words}."""
    assert words[0] == BLOCK_START
    items, i = {}, 1
    while words[i] & 0xFF != ITEM_LAST:
        kind, size = words[i] & 0xFF, (words[i] >> 8) & 0xFF  # 1BS items: one-byte size
        assert size >= 1 and kind not in items
        items[kind] = words[i:i + size]
        i += size
    last = words[i]
    assert (last >> 8) & 0xFFFF == i - 1  # LAST: the words of the items before it
    items["loop_offset"] = words[i + 1]
    assert words[i + 2] == BLOCK_END
    items["words"] = i + 3
    return items


def check_image_def(words: list[int], entry: int) -> None:
    items = parse_block(words)
    (image_type,) = items[ITEM_IMAGE_TYPE]
    assert (image_type >> 8) & 0xFF == 1
    flags = image_type >> 16
    assert flags & 0x000F == EXE and flags & 0x0030 == SECURE
    assert flags & 0x0700 == CPU_RISCV and flags & 0x7000 == CHIP_RP2350  # RISC-V, RP2350
    head, pc, sp = items[ITEM_ENTRY_POINT]
    assert head >> 16 == 0
    assert pc == entry and FLASH < pc < FLASH + FLASH_SIZE
    assert sp == RAM + RAM_SIZE  # core 0 starts on the top of SRAM
    assert items["loop_offset"] == 0  # a loop of this block alone


def test_board_file():
    b = BOARD
    assert [c.arch for c in b.cores] == ["rv32imac"] * 2
    assert b.targets == ("riscv32imac-unknown-none-elf",)
    assert {c.clock_hz for c in b.cores} == {150_000_000}
    assert (b.memory("flash").origin, b.memory("flash").size) == (FLASH, FLASH_SIZE)
    assert (b.memory("ram").origin, b.memory("ram").size) == (RAM, RAM_SIZE)
    assert not b.emulated and b.runtime.name == "riscv-rt"
    assert b.firmware.crate == "rp2350"  # one board crate for both modes
    assert b.firmware.formats == ("elf", "uf2") and b.firmware.uf2_family == FAMILY
    assert b.firmware.start_block and b.firmware.probe_rs_chip == "RP235x"


def test_linker_script_puts_the_block_first_and_riscv_rt_after_it():
    text = linker_script(BOARD)
    assert "FLASH : ORIGIN = 0x10000000, LENGTH = 0x400000" in text
    assert ".start_block ORIGIN(FLASH)" in text and "} INSERT BEFORE .text.dummy;" in text
    assert "_stext = ADDR(.start_block) + SIZEOF(.start_block);" in text
    assert "_max_hart_id = 1;" in text and "_hart_stack_size = 0x4000;" in text
    assert ".vector_table" not in text  # riscv-rt has none


def test_the_arm_board_keeps_its_block_after_the_vector_table():
    assert "} INSERT AFTER .vector_table;" in linker_script(get_board("rp2350"))


def test_start_block_is_refused_where_the_runtime_cannot_place_it(tmp_path):
    text = (BOARDS_DIR / "esp32c3.toml").read_text()
    p = tmp_path / "esp32c3.toml"
    p.write_text(text.replace('esp_chip = "esp32c3"', 'esp_chip = "esp32c3"\nstart_block = true'))
    with pytest.raises(UsageError, match=r"'firmware\.start_block' needs runtime 'cortex-m-rt' or 'riscv-rt'"):
        get_board(str(p))


@pytest.mark.parametrize("name", INT8_MODELS)
def test_every_mlperf_int8_model_fits_both_harts(name):
    c = compile_model(MODELS_DIR / f"{name}.tflite", board=BOARD, cores=2)
    arena = plan_arena(c)
    fit = check_fit(BOARD, c, arena, generate_crate(c, arena, BOARD, Path("unwritten")))
    assert fit["ram_estimate"] <= RAM_SIZE and fit["flash_estimate"] <= FLASH_SIZE


def _flash_run(args, cache: Path, path: str):
    env = dict(os.environ, PATH=path, ARIELML_CACHE=str(cache), ARIELML_UF2_DRIVES=str(cache / "none" / "*"))
    return subprocess.run([sys.executable, "-m", "arielml", "flash", *args], capture_output=True, text=True,
                          env=env, timeout=60)


def test_flash_takes_picotool_or_probe_rs_as_for_the_arm_rp2350(tmp_path):
    cache = tmp_path / "cache"
    d = cache / "builds" / "ad01"
    d.mkdir(parents=True)
    (d / "firmware.elf").write_bytes(b"\x7fELF fake")
    (d / "firmware.uf2").write_bytes(encode({FLASH: b"\x00" * 256}, FAMILY))
    (d / "manifest.json").write_text(json.dumps({"board": "rp2350-riscv", "artifacts": {"elf": "firmware.elf"}}))
    for tool in ("picotool", "probe-rs"):
        bindir = tmp_path / f"bin-{tool}"
        bindir.mkdir()
        (bindir / tool).write_text(f'#!/bin/sh\necho "$0 $@" >> "{tmp_path / tool}.log"\n')
        (bindir / tool).chmod(0o755)
        proc = _flash_run(["--board", "rp2350-riscv"], cache, str(bindir))
        assert proc.returncode == 0, proc.stderr
        called = (tmp_path / f"{tool}.log").read_text().split()[1:]
        want = (["load", "-x", str(d / "firmware.uf2")] if tool == "picotool"
                else ["download", "--chip", "RP235x", str(d / "firmware.elf")])
        assert called == want


def test_doctor_knows_the_board():
    proc = subprocess.run([sys.executable, "-m", "arielml", "doctor", "--board", "rp2350-riscv"],
                          capture_output=True, text=True, timeout=120)
    assert "rust riscv32imac-unknown-none-elf" in proc.stdout
    assert "picotool" in proc.stdout and "probe-rs" in proc.stdout and "qemu" not in proc.stdout


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    return {name: build_model(MODELS_DIR / f"{name}.tflite", BOARD, out=tmp_path_factory.mktemp(name))
            for name in INT8_MODELS}


def _symbol(elf: ELFFile, name: str) -> int:
    (sym,) = elf.get_section_by_name(".symtab").get_symbol_by_name(name)
    return sym["st_value"]


@pytest.mark.slow
@pytest.mark.parametrize("name", INT8_MODELS)
def test_model_builds_for_both_harts_with_a_bootable_image(builds, name):
    b = builds[name]
    assert b.manifest["board"] == "rp2350-riscv" and b.manifest["cores"] == 2
    assert b.manifest["artifacts"] == {"elf": "firmware.elf", "uf2": "firmware.uf2"}
    with open(b.elf, "rb") as f:
        elf = ELFFile(f)
        assert elf["e_machine"] == "EM_RISCV" and elf.elfclass == 32
        for s in elf.iter_sections():  # every allocated section in flash or SRAM
            if s["sh_flags"] & 2 and s["sh_size"]:
                lo, hi = s["sh_addr"], s["sh_addr"] + s["sh_size"]
                assert FLASH <= lo and hi <= FLASH + FLASH_SIZE or RAM <= lo and hi <= RAM + RAM_SIZE, s.name
        sb = elf.get_section_by_name(".start_block")
        assert sb["sh_addr"] == FLASH  # the boot ROM's search starts here
        entry = elf["e_entry"]
        assert entry == _symbol(elf, "_start") == FLASH + sb["sh_size"]
        check_image_def(list(struct.unpack(f"<{sb['sh_size'] // 4}I", sb.data())), entry)
        # core 1's entry (handed over in the launch handshake) is code in flash; its stack
        # is riscv-rt's slot of hart 1, one stack below core 0's
        assert FLASH < _symbol(elf, "_arielml_core1_start") < FLASH + FLASH_SIZE
        assert _symbol(elf, "_hart_stack_size") == BOARD.firmware.stack_bytes
        stack = elf.get_section_by_name(".stack")
        assert stack["sh_size"] >= 2 * BOARD.firmware.stack_bytes
    mem = b.manifest["memory"]
    assert 0 < mem["elf_flash_bytes"] <= mem["board_flash_bytes"] == FLASH_SIZE
    assert 0 < mem["elf_ram_bytes"] + 2 * BOARD.firmware.stack_bytes <= mem["board_ram_bytes"] == RAM_SIZE


@pytest.mark.slow
@pytest.mark.parametrize("name", INT8_MODELS)
def test_uf2_holds_the_image_for_the_rp2350_riscv_family(builds, name):
    b = builds[name]
    blocks = parse_uf2((b.out / "firmware.uf2").read_bytes())
    image = {}
    for n, blk in enumerate(blocks):
        assert (blk["m0"], blk["m1"], blk["end"]) == (0x0A324655, 0x9E5D5157, 0x0AB16F30)
        assert blk["flags"] == 0x2000 and blk["family"] == FAMILY
        assert blk["number"] == n and blk["count"] == len(blocks) and blk["size"] == 256
        image[blk["addr"]] = blk["data"]
    assert min(image) == FLASH
    flat = reassemble(image, FLASH)
    with open(b.elf, "rb") as f:
        elf = ELFFile(f)
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] and seg["p_paddr"] < RAM:
                off = seg["p_paddr"] - FLASH
                assert flat[off:off + seg["p_filesz"]] == seg.data()
        entry = elf["e_entry"]
    # the boot ROM's view: a block in the first 4 KiB of flash, found by its start marker
    at = flat.index(struct.pack("<I", BLOCK_START))
    assert at < 4096
    words = list(struct.unpack_from("<16I", flat, at))
    check_image_def(words, entry)
