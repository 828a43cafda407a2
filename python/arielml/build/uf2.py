"""UF2 images (Microsoft's USB flashing format) from a firmware ELF.

A UF2 file is a sequence of 512-byte blocks, each carrying up to 476 bytes of payload
for one target address; boot ROMs such as the RP2040's take exactly 256 bytes (one flash
page) per block, page-aligned. Every block carries the board's family id (flag 0x2000),
so a bootloader for another chip ignores the file instead of flashing it.

The pages come from the ELF's loaded segments whose load address (p_paddr) lies in the
board's flash: exactly the bytes `elf.write_bin` puts in `firmware.bin`. Bytes of a page
that no segment covers are 0xFF, as in erased flash and in the .bin.
"""

from __future__ import annotations

import struct
from pathlib import Path

from elftools.elf.elffile import ELFFile

from arielml.boards import Board
from arielml.errors import ArielError, UsageError

MAGIC_START0 = 0x0A324655  # "UF2\n"
MAGIC_START1 = 0x9E5D5157
MAGIC_END = 0x0AB16F30
FLAG_FAMILY_ID = 0x00002000
BLOCK_BYTES = 512
DATA_BYTES = 476  # room for payload in one block
PAGE = 256  # payload per block: one RP2040 flash page

_HEADER = struct.Struct("<8I")  # magic0, magic1, flags, addr, size, block, count, family


def flash_chunks(elf: Path, board: Board) -> list[tuple[int, bytes]]:
    """(load address, bytes) of every loaded segment with file data in the board's flash."""
    flash = board.memory("flash")
    chunks = []
    with open(elf, "rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] != "PT_LOAD" or not seg["p_filesz"]:
                continue
            addr = seg["p_paddr"]
            if not flash.origin <= addr < flash.origin + flash.size:
                continue
            if addr + seg["p_filesz"] > flash.origin + flash.size:
                raise ArielError(f"{elf}: segment at {addr:#x} runs past the end of {board.name}'s flash")
            chunks.append((addr, seg.data()))
    if not chunks:
        raise ArielError(f"{elf}: no loaded segment lies in {board.name}'s flash")
    return chunks


def pages(chunks: list[tuple[int, bytes]], page: int = PAGE) -> dict[int, bytes]:
    """Page-aligned address -> `page` bytes, holes filled with 0xFF; overlaps are errors."""
    out: dict[int, bytearray] = {}
    covered: dict[int, bytearray] = {}
    for addr, data in chunks:
        pos = 0
        while pos < len(data):
            a = addr + pos
            base, off = a - a % page, a % page
            n = min(page - off, len(data) - pos)
            buf = out.setdefault(base, bytearray(b"\xff" * page))
            cov = covered.setdefault(base, bytearray(page))
            if any(cov[off:off + n]):
                raise ArielError(f"two loaded segments overlap in the page at {base:#x}")
            buf[off:off + n] = data[pos:pos + n]
            cov[off:off + n] = b"\x01" * n
            pos += n
    return {a: bytes(b) for a, b in sorted(out.items())}


def encode(page_map: dict[int, bytes], family: int) -> bytes:
    """UF2 blocks for `page_map` (sorted by address), numbered 0..n-1, each with `family`."""
    count = len(page_map)
    blocks = []
    for number, (addr, data) in enumerate(sorted(page_map.items())):
        if len(data) > DATA_BYTES:
            raise ValueError("payload larger than a UF2 block holds")
        head = _HEADER.pack(MAGIC_START0, MAGIC_START1, FLAG_FAMILY_ID, addr, len(data), number, count,
                            family)
        block = head + data + b"\x00" * (DATA_BYTES - len(data)) + struct.pack("<I", MAGIC_END)
        assert len(block) == BLOCK_BYTES
        blocks.append(block)
    return b"".join(blocks)


def write_uf2(elf: Path, out: Path, board: Board) -> Path:
    """firmware.uf2 for `board` from the ELF's flash segments."""
    family = board.firmware.uf2_family
    if family is None:
        raise UsageError(f"{board.path}: 'firmware.uf2_family' is needed to write a UF2 image")
    out.write_bytes(encode(pages(flash_chunks(elf, board)), family))
    return out
