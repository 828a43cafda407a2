"""firmware.uf2 against the UF2 specification (github.com/microsoft/uf2, README), read by a
parser written here from the spec, independently of arielml.build.uf2: every field of every
block, and the payloads reassembled must equal the flash image taken from the ELF."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from _models import MODELS_DIR
from arielml.boards import BOARDS_DIR, get_board
from arielml.build import build_model
from arielml.build.elf import write_bin
from arielml.build.uf2 import encode, pages, write_uf2
from arielml.errors import ArielError, UsageError

BOARD = get_board("rp2040")
RP2040_FAMILY = 0xE48BFF56


def parse_uf2(raw: bytes) -> list[dict]:
    """The spec's block layout: 32-byte header, 476 data bytes, final magic; little endian."""
    assert len(raw) % 512 == 0 and raw, "a UF2 file is whole 512-byte blocks"
    blocks = []
    for i in range(0, len(raw), 512):
        blk = raw[i:i + 512]
        m0, m1, flags, addr, size, number, count, family = struct.unpack_from("<IIIIIIII", blk, 0)
        (m_end,) = struct.unpack_from("<I", blk, 508)
        blocks.append(dict(m0=m0, m1=m1, flags=flags, addr=addr, size=size, number=number, count=count,
                           family=family, end=m_end, data=blk[32:32 + size], pad=blk[32 + size:508]))
    return blocks


def check_rp2040_uf2(raw: bytes) -> dict[int, bytes]:
    blocks = parse_uf2(raw)
    image = {}
    for n, b in enumerate(blocks):
        assert (b["m0"], b["m1"], b["end"]) == (0x0A324655, 0x9E5D5157, 0x0AB16F30)
        assert b["flags"] == 0x2000  # familyID present, nothing else (not main flash-skip etc.)
        assert b["family"] == RP2040_FAMILY
        assert b["size"] == 256 and b["addr"] % 256 == 0  # the RP2040 boot ROM's requirement
        assert b["number"] == n and b["count"] == len(blocks)
        assert b["pad"] == bytes(len(b["pad"]))
        assert 0x1000_0000 <= b["addr"] < 0x1020_0000
        assert b["addr"] not in image
        image[b["addr"]] = b["data"]
    assert list(image) == sorted(image)
    return image


def reassemble(image: dict[int, bytes], origin: int) -> bytes:
    out = bytearray()
    for addr, data in sorted(image.items()):
        start = addr - origin
        out += b"\xff" * (start - len(out))
        out[start:start + len(data)] = data
    return bytes(out)


@pytest.fixture(scope="module")
def kws(tmp_path_factory):
    return build_model(MODELS_DIR / "kws_ref_model.tflite", BOARD, out=tmp_path_factory.mktemp("kws"))


@pytest.mark.slow
def test_build_uf2_is_valid_and_holds_exactly_the_flash_image(kws, tmp_path):
    raw = (kws.out / "firmware.uf2").read_bytes()
    image = check_rp2040_uf2(raw)
    flat = reassemble(image, 0x1000_0000)
    binary = write_bin(kws.elf, tmp_path / "firmware.bin", BOARD).read_bytes()
    assert flat[:len(binary)] == binary
    assert flat[len(binary):] == b"\xff" * (len(flat) - len(binary)) and len(flat) - len(binary) < 256
    # and byte for byte against the ELF's flash segments, read here directly
    with open(kws.elf, "rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] and seg["p_paddr"] < 0x2000_0000:
                off = seg["p_paddr"] - 0x1000_0000
                assert flat[off:off + seg["p_filesz"]] == seg.data()
    # the first block is boot2 at the start of flash, the second the vector table
    assert min(image) == 0x1000_0000 and 0x1000_0100 in image


def test_pages_fill_holes_with_ff_and_align():
    got = pages([(0x1000_0000, b"\x01" * 10), (0x1000_0105, b"\x02" * 300)])
    assert list(got) == [0x1000_0000, 0x1000_0100, 0x1000_0200]
    assert got[0x1000_0000] == b"\x01" * 10 + b"\xff" * 246
    assert got[0x1000_0100] == b"\xff" * 5 + b"\x02" * 251
    assert got[0x1000_0200] == b"\x02" * 49 + b"\xff" * 207
    raw = encode(got, RP2040_FAMILY)
    image = check_rp2040_uf2(raw)
    flat = reassemble(image, 0x1000_0000)
    assert flat[:10] == b"\x01" * 10 and flat[0x105:0x105 + 300] == b"\x02" * 300


def test_overlapping_segments_are_refused():
    with pytest.raises(ArielError, match="overlap"):
        pages([(0x1000_0000, b"\x01" * 10), (0x1000_0008, b"\x02" * 4)])


@pytest.mark.slow
def test_uf2_needs_a_family_id(tmp_path, kws):
    text = (BOARDS_DIR / "rp2040.toml").read_text()
    p = tmp_path / "rp2040.toml"
    p.write_text(text.replace("uf2_family = 0xe48bff56", ""))
    with pytest.raises(UsageError, match="uf2_family"):
        get_board(str(p))
    p.write_text(text.replace("uf2_family = 0xe48bff56", "").replace('formats = ["elf", "uf2"]', 'formats = ["elf"]'))
    board = get_board(str(p))
    with pytest.raises(UsageError, match="uf2_family"):
        write_uf2(kws.elf, tmp_path / "x.uf2", board)


@pytest.mark.slow
def test_uf2_is_reproducible(kws, tmp_path):
    again = write_uf2(kws.elf, tmp_path / "again.uf2", BOARD)
    assert again.read_bytes() == Path(kws.out / "firmware.uf2").read_bytes()
