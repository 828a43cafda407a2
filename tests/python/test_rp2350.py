"""The RP2350 board (Arm mode): board file, memory.x with the boot ROM's start block,
firmware that fits, and an ELF and UF2 a Pico 2's boot ROM accepts (an IMAGE_DEF block in
the first 4 KiB of flash, the vector table at 0x1000_0000).

No emulator runs the RP2350, so these tests check the built images, not a run.
"""

from __future__ import annotations

import struct

from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from _models import MODELS_DIR
from arielml.boards import BOARDS_DIR, get_board
from arielml.build import build_model, check_fit
from arielml.codegen import generate_crate
from arielml.build.cargo import build_crate, linker_script
from arielml.errors import UsageError
from arielml.pipeline import compile_model
from arielml.plan.arena import plan_arena
from test_uf2 import parse_uf2, reassemble

BOARD = get_board("rp2350")
FAMILY = 0xE48BFF59  # RP2350, Arm, secure (uf2families.json: "rp2350-arm-s")
FLASH, FLASH_SIZE = 0x1000_0000, 4 * 1024 * 1024
RAM, RAM_SIZE = 0x2000_0000, 512 * 1024
INT8_MODELS = ["kws_ref_model", "vww_96_int8", "ad01_int8", "pretrainedResnet_quant", "str_ww_ref_model"]
BUILT = INT8_MODELS  # every model that fits is compiled and its image checked

# RP2350 datasheet, "Blocks and block loops": markers around a block; the IMAGE_TYPE item.
BLOCK_START, BLOCK_END = 0xFFFFDED3, 0xAB123579
ITEM_IMAGE_TYPE, ITEM_LAST = 0x42, 0xFF
IMAGE_TYPE_EXE, IMAGE_TYPE_SECURE, IMAGE_TYPE_CPU_MASK, IMAGE_TYPE_CHIP_RP2350 = 0x0001, 0x0020, 0x0700, 0x1000


def test_board_file():
    b = BOARD
    assert [c.arch for c in b.cores] == ["cortex-m33"] * 2
    assert b.targets == ("thumbv8m.main-none-eabihf",)
    assert {c.clock_hz for c in b.cores} == {150_000_000}
    flash, ram = b.memory("flash"), b.memory("ram")
    assert (flash.origin, flash.size) == (FLASH, FLASH_SIZE)
    assert (ram.origin, ram.size) == (RAM, RAM_SIZE)
    assert not b.emulated
    assert b.firmware.formats == ("elf", "uf2")
    assert b.firmware.uf2_family == FAMILY
    assert b.firmware.boot2_bytes == 0 and b.firmware.start_block
    assert b.firmware.counter_hz == 1_000_000
    assert BOARD.firmware.probe_rs_chip == "RP235x"


def test_linker_script_keeps_the_start_block_after_the_vector_table():
    text = linker_script(BOARD)
    assert "BOOT2" not in text
    assert "FLASH : ORIGIN = 0x10000000, LENGTH = 0x400000" in text
    assert "RAM   : ORIGIN = 0x20000000, LENGTH = 0x80000" in text
    assert "EXTERN(IMAGE_DEF)" in text and "KEEP(*(.start_block));" in text
    assert "} INSERT AFTER .vector_table;" in text
    assert "_stext = ADDR(.start_block) + SIZEOF(.start_block);" in text


def test_boards_without_start_block_keep_their_linker_script():
    for name in ("rp2040", "qemu-an521", "qemu-riscv32"):
        text = linker_script(get_board(name))
        assert "start_block" not in text and "IMAGE_DEF" not in text and "_stext" not in text


def test_start_block_must_be_a_boolean(tmp_path):
    text = (BOARDS_DIR / "rp2350.toml").read_text()
    p = tmp_path / "rp2350.toml"
    p.write_text(text.replace("start_block = true", "start_block = 1"))
    with pytest.raises(UsageError, match=r"'firmware\.start_block' must be true or false"):
        get_board(str(p))


@pytest.mark.parametrize("name", INT8_MODELS)
def test_every_mlperf_int8_model_fits_two_cores(name):
    c = compile_model(MODELS_DIR / f"{name}.tflite", board=BOARD, cores=2)
    arena = plan_arena(c)
    fit = check_fit(BOARD, c, arena, generate_crate(c, arena, BOARD, Path('unwritten')))  # raises UsageError when it does not fit
    assert fit["ram_estimate"] <= RAM_SIZE and fit["flash_estimate"] <= FLASH_SIZE


def check_image_def(words: tuple[int, ...]) -> None:
    """One IMAGE_DEF block: Arm secure executable for the RP2350, looping to itself."""
    assert words[0] == BLOCK_START and words[-1] == BLOCK_END
    item = words[1]
    assert item & 0xFF == ITEM_IMAGE_TYPE and (item >> 8) & 0xFF == 1  # one word long
    flags = item >> 16
    assert flags & 0x000F == IMAGE_TYPE_EXE and flags & 0x0030 == IMAGE_TYPE_SECURE
    assert flags & IMAGE_TYPE_CPU_MASK == 0 and flags & 0x7000 == IMAGE_TYPE_CHIP_RP2350  # Arm
    last = words[2]
    assert last & 0xFF == ITEM_LAST and (last >> 8) & 0xFFFF == 1  # one word of items before it
    assert words[3] == 0  # the block loop's offset: this block alone


def check_pico2_image(path) -> None:
    """What the RP2350 boot ROM and cortex-m-rt need from an image."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        vt = elf.get_section_by_name(".vector_table")
        assert vt is not None and vt["sh_addr"] == FLASH
        sp, reset = struct.unpack("<II", vt.data()[:8])
        assert sp == RAM + RAM_SIZE  # core 0's stack starts at the top of SRAM
        assert reset & 1 and FLASH < reset & ~1 < FLASH + FLASH_SIZE  # Thumb code in flash
        sb = elf.get_section_by_name(".start_block")
        assert sb is not None and sb["sh_size"] == 20
        assert FLASH <= sb["sh_addr"] and sb["sh_addr"] + sb["sh_size"] <= FLASH + 4096
        check_image_def(struct.unpack("<5I", sb.data()))
        # the block is really loaded: find it in the flash image built from the segments
        image = bytearray(b"\xff" * 4096)
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] and FLASH <= seg["p_paddr"] < FLASH + 4096:
                off = seg["p_paddr"] - FLASH
                data = seg.data()[:4096 - off]
                image[off:off + len(data)] = data
    check_image_def(struct.unpack_from("<5I", image, sb["sh_addr"] - FLASH))


def check_rp2350_uf2(raw: bytes) -> dict[int, bytes]:
    blocks = parse_uf2(raw)
    image = {}
    for n, b in enumerate(blocks):
        assert (b["m0"], b["m1"], b["end"]) == (0x0A324655, 0x9E5D5157, 0x0AB16F30)
        assert b["flags"] == 0x2000 and b["family"] == FAMILY
        assert b["size"] == 256 and b["addr"] % 256 == 0
        assert b["number"] == n and b["count"] == len(blocks)
        assert b["pad"] == bytes(len(b["pad"]))
        assert FLASH <= b["addr"] < FLASH + FLASH_SIZE and b["addr"] not in image
        image[b["addr"]] = b["data"]
    return image


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    return {name: build_model(MODELS_DIR / f"{name}.tflite", BOARD, out=tmp_path_factory.mktemp(name))
            for name in BUILT}


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILT)
def test_model_builds_for_rp2350_with_a_bootable_image(builds, name):
    b = builds[name]
    check_pico2_image(b.elf)
    assert b.manifest["board"] == "rp2350" and b.manifest["cores"] == 2
    assert b.manifest["artifacts"] == {"elf": "firmware.elf", "uf2": "firmware.uf2"}
    mem = b.manifest["memory"]
    assert 0 < mem["elf_flash_bytes"] <= mem["board_flash_bytes"] == FLASH_SIZE
    assert 0 < mem["elf_ram_bytes"] <= mem["board_ram_bytes"] == RAM_SIZE
    # core 1's static stack is in .bss; core 0's stack sits above it at the top of SRAM
    assert mem["elf_ram_bytes"] + BOARD.firmware.stack_bytes <= mem["board_ram_bytes"]
    assert mem["sections"][".start_block"] == 20 and ".boot2" not in mem["sections"]


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILT)
def test_uf2_holds_the_flash_image_for_the_rp2350_family(builds, name):
    b = builds[name]
    image = check_rp2350_uf2((b.out / "firmware.uf2").read_bytes())
    assert min(image) == FLASH  # the vector table and IMAGE_DEF, in the first page
    flat = reassemble(image, FLASH)
    with open(b.elf, "rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] and seg["p_paddr"] < RAM:
                off = seg["p_paddr"] - FLASH
                assert flat[off:off + seg["p_filesz"]] == seg.data()
    with open(b.elf, "rb") as f:
        sb = ELFFile(f).get_section_by_name(".start_block")["sh_addr"] - FLASH
    check_image_def(struct.unpack_from("<5I", flat, sb))


@pytest.mark.slow
def test_hello_roll_call_builds_for_rp2350():
    r = build_crate(BOARD, "arielml-hello", features=["rp2350"])
    check_pico2_image(r.elf)
