"""What a built firmware ELF holds, per memory of its board, and its raw .bin image.

Figures come from the program headers (what a loader or flasher actually writes), so
initialised data counts twice, as a real image does: its load image in flash, its
run-time copy in RAM.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from arielml.boards import Board, Memory
from arielml.errors import ArielError

PT_LOAD = "PT_LOAD"


@dataclass(frozen=True)
class Segment:
    vaddr: int
    paddr: int
    filesz: int
    memsz: int


@dataclass(frozen=True)
class MemoryUse:
    flash_bytes: int  # bytes loaded into the board's flash (code, constants, .data image)
    ram_bytes: int  # bytes of RAM reserved at run time (.data, .bss, stacks, arena)
    sections: dict[str, int]  # allocated section name -> size


def _open(path: Path) -> ELFFile:
    try:
        return ELFFile(open(path, "rb"))
    except (OSError, ELFError) as e:
        raise ArielError(f"{path}: not a readable ELF file ({e})") from None


def segments(path: Path) -> list[Segment]:
    elf = _open(path)
    try:
        return [Segment(s["p_vaddr"], s["p_paddr"], s["p_filesz"], s["p_memsz"])
                for s in elf.iter_segments() if s["p_type"] == PT_LOAD and s["p_memsz"] > 0]
    finally:
        elf.stream.close()


def _inside(mem: Memory, addr: int) -> bool:
    return mem.origin <= addr < mem.origin + mem.size


def memory_use(path: Path, board: Board) -> MemoryUse:
    """Flash from the loaded segments; RAM from the allocated sections placed in RAM.

    riscv-rt's `.stack` section is a filler spanning all RAM left over, not a use, so it
    is left out; stacks are reported by the build from their configured sizes.

    A board may list more than one memory of a kind when the chip shows one memory
    through several address windows (ESP32-C3: the app's flash as DROM and IROM, DRAM also
    as IRAM): flash use adds up the loaded bytes in every flash window; RAM use counts the
    board's RAM (its first "ram" memory) only, the other RAM windows being the same bytes
    (esp-hal reserves DRAM for what it puts in IRAM). Every segment must lie in one of them.
    """
    flashes = [m for m in board.memories if m.kind == "flash"]
    ram = board.memory("ram")
    flash_bytes = 0
    for s in segments(path):
        if s.filesz and any(_inside(m, s.paddr) for m in flashes):
            flash_bytes += s.filesz
        elif not any(_inside(m, s.vaddr) for m in board.memories):
            raise ArielError(f"{path}: segment at {s.vaddr:#x} lies outside {board.name}'s memories")
    elf = _open(path)
    try:
        alloc = [(sec.name, sec["sh_addr"], sec["sh_size"]) for sec in elf.iter_sections()
                 if sec["sh_flags"] & 0x2 and sec["sh_size"] > 0]  # SHF_ALLOC
    finally:
        elf.stream.close()
    ram_bytes = sum(size for name, addr, size in alloc if _inside(ram, addr) and name != ".stack")
    return MemoryUse(flash_bytes, ram_bytes, {name: size for name, _addr, size in alloc})


def write_bin(path: Path, out: Path, board: Board) -> Path:
    """The flash image: every loaded byte from the flash origin, gaps filled with 0xFF."""
    flash = board.memory("flash")
    image = bytearray()
    with open(path, "rb") as f:
        elf = ELFFile(f)
        for seg in elf.iter_segments():
            if seg["p_type"] != PT_LOAD or not seg["p_filesz"] or not _inside(flash, seg["p_paddr"]):
                continue
            start = seg["p_paddr"] - flash.origin
            if len(image) < start:
                image += b"\xff" * (start - len(image))
            image[start:start + seg["p_filesz"]] = seg.data()
    out.write_bytes(bytes(image))
    return out
