"""Memory figures and .bin images read from built firmware."""

from __future__ import annotations

import struct

import pytest

from arielml.boards import get_board
from arielml.build.cargo import build_crate
from arielml.build.elf import memory_use, write_bin
from arielml.errors import ArielError

pytestmark = pytest.mark.qemu


@pytest.fixture(scope="module")
def an521_hello():
    board = get_board("qemu-an521")
    return board, build_crate(board, "arielml-hello", features=[board.firmware.crate], log=lambda m: None).elf


def test_bin_image_starts_with_the_vector_table(an521_hello, tmp_path):
    board, elf = an521_hello
    image = write_bin(elf, tmp_path / "fw.bin", board).read_bytes()
    use = memory_use(elf, board)
    assert len(image) == use.flash_bytes
    initial_sp, reset = struct.unpack_from("<II", image)
    ram, flash = board.memory("ram"), board.memory("flash")
    assert ram.origin < initial_sp <= ram.origin + ram.size
    assert flash.origin <= reset < flash.origin + len(image) and reset & 1  # Thumb bit


def test_memory_use_counts_sections_by_region(an521_hello):
    board, elf = an521_hello
    use = memory_use(elf, board)
    assert use.sections[".text"] > 0
    # core 1's 64 KiB stack is a static in .bss: RAM use must include it.
    assert use.ram_bytes >= 64 * 1024
    assert use.flash_bytes >= use.sections[".text"] + use.sections[".vector_table"]


def test_riscv_stack_filler_is_not_counted_as_ram_use():
    board = get_board("qemu-riscv32")
    elf = build_crate(board, "arielml-hello", features=[board.firmware.crate], log=lambda m: None).elf
    use = memory_use(elf, board)
    assert use.sections[".stack"] > 1024 * 1024
    assert use.ram_bytes < 4096


def test_not_an_elf_is_a_clear_error(tmp_path):
    bogus = tmp_path / "fw.elf"
    bogus.write_bytes(b"\x7fELF garbage")
    with pytest.raises(ArielError, match="not a readable ELF file"):
        memory_use(bogus, get_board("qemu-an521"))
