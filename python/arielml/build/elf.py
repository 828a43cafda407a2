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


def image_memories(board: Board, image: int = 0) -> tuple[Memory, tuple[Memory, ...]]:
    """Image `image`'s flash, and the RAMs it uses: its own and, on a multi-image board,
    the shared one (where `.arielml_shared` lives)."""
    im = board.image_list()[image]
    flash, ram = board.named(im.flash), board.named(im.ram)
    rams = (ram,) if not board.multi_image or board.shared_memory() == ram else (ram, board.shared_memory())
    return flash, rams


def memory_use(path: Path, board: Board, image: int = 0) -> MemoryUse:
    """Flash from the loaded segments; RAM from the allocated sections placed in RAM.

    riscv-rt's `.stack` section is a filler spanning all RAM left over, not a use, so it
    is left out; stacks are reported by the build from their configured sizes. On a
    multi-image board, of image `image`: the shared block counts as its RAM.

    A single-image board may list more than one memory of a kind when the chip shows one
    memory through several address windows (ESP32-C3: the app's flash as DROM and IROM,
    DRAM also as IRAM): flash use adds up the loaded bytes in every flash window; RAM use
    counts the board's RAM (its first "ram" memory) only, the other RAM windows being the
    same bytes (esp-hal reserves DRAM for what it puts in IRAM). Every segment must lie in
    one of the image's memories.
    """
    flash, rams = image_memories(board, image)
    if board.multi_image:
        flashes, anywhere = [flash], [flash, *rams]
    else:
        flashes, anywhere = [m for m in board.memories if m.kind == "flash"], list(board.memories)
    flash_bytes = 0
    for s in segments(path):
        if s.filesz and any(_inside(m, s.paddr) for m in flashes):
            flash_bytes += s.filesz
        elif not any(_inside(m, s.vaddr) for m in anywhere):
            raise ArielError(f"{path}: segment at {s.vaddr:#x} lies outside {board.name}'s memories")
    elf = _open(path)
    try:
        alloc = [(sec.name, sec["sh_addr"], sec["sh_size"]) for sec in elf.iter_sections()
                 if sec["sh_flags"] & 0x2 and sec["sh_size"] > 0]  # SHF_ALLOC
    finally:
        elf.stream.close()
    ram_bytes = sum(size for name, addr, size in alloc
                    if any(_inside(r, addr) for r in rams) and name != ".stack")
    return MemoryUse(flash_bytes, ram_bytes, {name: size for name, _addr, size in alloc})


def write_bin(path: Path, out: Path, board: Board, image: int = 0) -> Path:
    """The flash image: every loaded byte from the (image's) flash origin, gaps filled with 0xFF."""
    flash = image_memories(board, image)[0]
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
