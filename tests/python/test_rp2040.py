"""The RP2040 board: board file, memory.x with boot2, firmware that fits, and an ELF a
Pico's boot ROM accepts (boot2 with its CRC at 0x1000_0000, vectors right after).

No emulator runs the RP2040's two cores, so these tests check the built images, not a run.
"""

from __future__ import annotations

import struct

from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from _models import MODELS_DIR
from arielml.boards import get_board
from arielml.build import build_model, check_fit
from arielml.codegen import generate_crate
from arielml.build.cargo import build_crate, linker_script
from arielml.pipeline import compile_model
from arielml.plan.arena import plan_arena

BOARD = get_board("rp2040")
INT8_MODELS = ["kws_ref_model", "vww_96_int8", "ad01_int8", "pretrainedResnet_quant", "str_ww_ref_model"]


def crc32_mpeg2(data: bytes) -> int:
    """CRC-32/MPEG-2 (poly 0x04C11DB7, init 0xFFFFFFFF, no reflection, no final xor): boot2's."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x8000_0000 else (crc << 1)
            crc &= 0xFFFFFFFF
    return crc


def test_crc32_mpeg2_check_value():
    assert crc32_mpeg2(b"123456789") == 0x0376E6E7  # the catalogue's check value


def test_board_file():
    b = BOARD
    assert [c.arch for c in b.cores] == ["cortex-m0plus"] * 2
    assert b.targets == ("thumbv6m-none-eabi",)
    assert {c.clock_hz for c in b.cores} == {133_000_000}
    flash, ram = b.memory("flash"), b.memory("ram")
    assert (flash.origin, flash.size) == (0x1000_0000, 2 * 1024 * 1024)
    assert (ram.origin, ram.size) == (0x2000_0000, 264 * 1024)
    assert not b.emulated
    assert b.firmware.formats == ("elf", "uf2")
    assert b.firmware.uf2_family == 0xE48BFF56
    assert b.firmware.boot2_bytes == 256
    assert b.firmware.counter_hz == 1_000_000


def test_linker_script_reserves_boot2_before_flash():
    text = linker_script(BOARD)
    assert "BOOT2 : ORIGIN = 0x10000000, LENGTH = 0x100" in text
    assert "FLASH : ORIGIN = 0x10000100, LENGTH = 0x1fff00" in text
    assert "RAM   : ORIGIN = 0x20000000, LENGTH = 0x42000" in text
    assert "EXTERN(BOOT2_FIRMWARE)" in text and "} INSERT BEFORE .text;" in text


def test_boards_without_boot2_keep_their_linker_script():
    text = linker_script(get_board("qemu-an521"))
    assert "BOOT2" not in text and "FLASH : ORIGIN = 0x10000000, LENGTH = 0x400000" in text


@pytest.mark.parametrize("name", INT8_MODELS)
def test_every_mlperf_int8_model_fits_two_cores(name):
    c = compile_model(MODELS_DIR / f"{name}.tflite", board=BOARD, cores=2)
    arena = plan_arena(c)
    fit = check_fit(BOARD, c, arena, generate_crate(c, arena, BOARD, Path('unwritten')))  # raises UsageError when it does not fit
    assert fit["ram_estimate"] <= BOARD.memory("ram").size


def _section(elf: ELFFile, name: str):
    sec = elf.get_section_by_name(name)
    assert sec is not None, f"no {name} section"
    return sec


def check_pico_image(path):
    """What the RP2040 boot ROM and cortex-m-rt need from an image."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        boot2 = _section(elf, ".boot2")
        assert boot2["sh_addr"] == 0x1000_0000 and boot2["sh_size"] == 256
        data = boot2.data()
        assert struct.unpack("<I", data[252:])[0] == crc32_mpeg2(data[:252])
        vt = _section(elf, ".vector_table")
        assert vt["sh_addr"] == 0x1000_0100
        sp, reset = struct.unpack("<II", vt.data()[:8])
        ram = BOARD.memory("ram")
        assert sp == ram.origin + ram.size  # core 0's stack starts at the top of SRAM
        assert reset & 1 and 0x1000_0100 <= reset & ~1 < 0x1020_0000  # Thumb code in flash
        # the first loaded byte is boot2's, the vector table follows it directly
        flash_loads = sorted(s["p_paddr"] for s in elf.iter_segments()
                             if s["p_type"] == "PT_LOAD" and s["p_filesz"] and s["p_paddr"] < 0x2000_0000)
        assert flash_loads[0] == 0x1000_0000 and 0x1000_0100 in flash_loads


@pytest.fixture(scope="module")
def kws_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("kws-rp2040")
    return build_model(MODELS_DIR / "kws_ref_model.tflite", BOARD, out=out)


@pytest.mark.slow
def test_kws_builds_for_rp2040_with_a_bootable_image(kws_build):
    b = kws_build
    check_pico_image(b.elf)
    assert b.manifest["board"] == "rp2040" and b.manifest["cores"] == 2
    assert b.manifest["artifacts"] == {"elf": "firmware.elf", "uf2": "firmware.uf2"}
    assert (b.out / "firmware.uf2").is_file() and not (b.out / "firmware.bin").exists()
    mem = b.manifest["memory"]
    assert 0 < mem["elf_flash_bytes"] <= mem["board_flash_bytes"] == 2 * 1024 * 1024
    assert 0 < mem["elf_ram_bytes"] <= mem["board_ram_bytes"] == 264 * 1024
    # core 1's static stack is in .bss; core 0's stack sits above it at the top of SRAM
    assert mem["elf_ram_bytes"] + BOARD.firmware.stack_bytes <= mem["board_ram_bytes"]
    assert mem["sections"][".boot2"] == 256


@pytest.mark.slow
@pytest.mark.parametrize("name", [m for m in INT8_MODELS if m != "kws_ref_model"])
def test_every_model_builds_for_rp2040_within_its_memories(tmp_path, name):
    b = build_model(MODELS_DIR / f"{name}.tflite", BOARD, out=tmp_path / name)
    check_pico_image(b.elf)
    assert b.manifest["cores"] == 2 and (b.out / "firmware.uf2").is_file()
    mem = b.manifest["memory"]
    assert mem["elf_ram_bytes"] + BOARD.firmware.stack_bytes <= mem["board_ram_bytes"]
    assert mem["elf_flash_bytes"] <= mem["board_flash_bytes"]


@pytest.mark.slow
def test_hello_roll_call_builds_for_rp2040():
    r = build_crate(BOARD, "arielml-hello", features=["rp2040"])
    check_pico_image(r.elf)
