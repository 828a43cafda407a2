"""`arielml flash`: put a built firmware on a real board.

For boards with a UF2 image (RP2040), in order of preference:
1. a mounted UF2 boot drive (the RP2040's boot ROM shows one, RPI-RP2, when the board is
   plugged in with BOOTSEL held): copy firmware.uf2 onto it. The blocks carry the board's
   UF2 family id, so another chip's bootloader ignores the file rather than flashing it;
2. picotool on PATH: `picotool load -x firmware.uf2` (load, then run);
3. probe-rs on PATH, with a debug probe on SWD: `probe-rs download --chip CHIP firmware.elf`.
For boards on esp-hal (ESP32-C3; board field `esp_chip`), from the ELF:
1. espflash on PATH: `espflash flash --chip CHIP firmware.elf` (writes the ESP-IDF
   bootloader, a partition table and the app image it makes from the ELF);
2. esptool on PATH (`esptool`, or `esptool.py` before v5): `esptool --chip CHIP elf2image`
   into a temporary app image, then `esptool --chip CHIP write_flash 0x10000 IMAGE`, which
   relies on the bootloader and partition table already on the board.
For other boards (nRF5340, STM32H745; board field `probe_rs_chip`): probe-rs with a debug
probe, `probe-rs download --chip CHIP` for each image's ELF (on boards whose cores boot
separate images: the other images first, image 0 last), then `probe-rs reset`.
With none of them the command fails with exit 3 (ToolMissing) and names what to install.

The artifact defaults to the most recent build for the board in the arielml cache
(`builds/*/manifest.json`, newest first).
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from arielml.boards import Board, get_board
from arielml.errors import ArielError, ToolMissing, UsageError
from arielml.paths import cache_dir

# Where desktop auto-mounters and people put USB drives.
UF2_DRIVE_GLOBS = ("/media/*/*", "/run/media/*/*", "/mnt/*")
# os.pathsep-separated globs that replace UF2_DRIVE_GLOBS (unusual mount points, tests).
DRIVES_ENV = "ARIELML_UF2_DRIVES"
INSTALL_HINT = ("install picotool (Raspberry Pi's tool: your distribution's package or a source build) "
                "or probe-rs (`cargo install probe-rs-tools`), or hold BOOTSEL while plugging the board "
                "in so that its RPI-RP2 drive is mounted")
ESP_INSTALL_HINT = "install espflash (`cargo install espflash`) or esptool (`pip install esptool`)"
# Where ESP-IDF's partition tables (and espflash's) put the app: what esptool writes there.
ESP_APP_OFFSET = 0x10000


PROBE_RS_HINT = "install probe-rs (`cargo install probe-rs-tools`) and connect a debug probe (SWD)"


@dataclass(frozen=True)
class Artifact:
    board: str | None  # from the build's manifest, when there is one
    elf: Path | None
    uf2: Path | None
    manifest: Path | None
    # The ELFs of images 1.. on boards whose cores boot separate images (from the manifest).
    other_images: tuple[Path, ...] = ()


def _read_manifest(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise UsageError(f"{path}: not a readable build manifest ({e})") from None


def _from_dir(d: Path) -> Artifact:
    manifest = d / "manifest.json"
    board, others = None, ()
    if manifest.is_file():
        m = _read_manifest(manifest)
        board = m.get("board")
        others = tuple(d / im["elf"] for im in m.get("images", [])[1:])
        missing = [p.name for p in others if not p.is_file()]
        if missing:
            raise UsageError(f"{d}: the build's image {missing[0]} is missing: build again")
    elf, uf2 = d / "firmware.elf", d / "firmware.uf2"
    return Artifact(board, elf if elf.is_file() else None, uf2 if uf2.is_file() else None,
                    manifest if manifest.is_file() else None, others)


def artifact_at(path: Path) -> Artifact:
    """A build directory, its manifest.json, or a .uf2 / .elf file (with its build's siblings)."""
    if not path.exists():
        raise UsageError(f"{path}: no such file or directory")
    if path.is_dir():
        a = _from_dir(path)
    elif path.suffix == ".json":
        a = _from_dir(path.parent)
    elif path.suffix == ".uf2":
        a = _from_dir(path.parent)
        a = Artifact(a.board, a.elf, path, a.manifest, a.other_images)
    elif path.suffix == ".elf":
        a = _from_dir(path.parent)
        if a.other_images and path.resolve() != (path.parent / "firmware.elf").resolve():
            raise UsageError(f"{path}: one image of a multi-image build; give its build directory")
        a = Artifact(a.board, path, a.uf2, a.manifest, a.other_images)
    else:
        raise UsageError(f"{path}: give a build directory, a manifest.json, a .uf2 or an .elf file")
    if a.elf is None and a.uf2 is None:
        raise UsageError(f"{path}: no firmware.elf or firmware.uf2 there")
    return a


def last_build(board: str | None) -> Path:
    """The build directory of the newest manifest in the cache for `board` (any real board if None)."""
    builds = cache_dir() / "builds"
    found = []
    for m in builds.glob("*/manifest.json"):
        try:
            name = json.loads(m.read_text()).get("board")
            mtime = m.stat().st_mtime
        except (OSError, ValueError):
            continue
        if board is None:
            try:
                if get_board(name).emulated:
                    continue
            except ArielError:
                continue
        elif name != board:
            continue
        found.append((mtime, m.parent))
    if not found:
        which = f"board {board}" if board else "a real board"
        raise UsageError(f"no build for {which} in {builds}: run `arielml build MODEL --board "
                         f"{board or 'BOARD'}` first, or name the artifact")
    return max(found)[1]


def resolve(board_name: str | None, artifact: Path | None) -> tuple[Board, Artifact]:
    if artifact is None:
        artifact = last_build(board_name)
    a = artifact_at(Path(artifact))
    if board_name is None and a.board is None:
        raise UsageError(f"{artifact}: no manifest.json says which board it is for: give --board")
    board = get_board(board_name or a.board)
    if a.board is not None and a.board != board.name:
        raise UsageError(f"{artifact} was built for {a.board}, not {board.name}")
    if board.emulated:
        raise UsageError(f"{board.name} is an emulated board: nothing to flash "
                         f"(`arielml run MODEL --board {board.name}` runs a model on it)")
    return board, a


def drive_globs() -> tuple[str, ...]:
    env = os.environ.get(DRIVES_ENV)
    return tuple(p for p in env.split(os.pathsep) if p) if env is not None else UF2_DRIVE_GLOBS


def find_uf2_drives(globs: tuple[str, ...] | None = None) -> list[Path]:
    """Mounted UF2 boot drives: directories holding INFO_UF2.TXT."""
    drives = []
    for pattern in globs if globs is not None else drive_globs():
        for d in sorted(glob.glob(pattern)):
            if (Path(d) / "INFO_UF2.TXT").is_file() and Path(d) not in drives:
                drives.append(Path(d))
    return drives


def _board_id(drive: Path) -> str:
    try:
        for line in (drive / "INFO_UF2.TXT").read_text(errors="replace").splitlines():
            if line.startswith("Board-ID:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _run(cmd: list[str], what: str) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as e:
        raise ArielError(f"{what} failed: {e}", exit_code=4) from None
    if proc.returncode != 0:
        lines = (proc.stderr.strip() or proc.stdout.strip() or f"exit status {proc.returncode}").splitlines()
        raise ArielError(f"{what} failed: {lines[-1].strip()}", exit_code=4)


def flash(board: Board, a: Artifact, *, log=None) -> str:
    """Flash `a` onto the first way found; return a one-line description of what was done."""
    log = log or (lambda m: None)
    if board.runtime.espressif:
        return flash_esp(board, a, log)
    if a.uf2 is not None:
        drives = find_uf2_drives()
        if drives:
            drive = drives[0]
            log(f"copying {a.uf2} to the UF2 drive {drive} (Board-ID {_board_id(drive)})")
            try:
                shutil.copyfile(a.uf2, drive / a.uf2.name)
                os.sync()
            except OSError as e:
                raise ArielError(f"copying {a.uf2} to {drive} failed: {e.strerror or e}", exit_code=4) from None
            return f"copied {a.uf2.name} to {drive}; the board restarts into the new firmware"
        picotool = shutil.which("picotool")
        if picotool:
            cmd = [picotool, "load", "-x", str(a.uf2)]
            log(" ".join(cmd))
            _run(cmd, "picotool")
            return f"loaded {a.uf2.name} with picotool and started it"
    chip = board.firmware.probe_rs_chip
    probe_rs = shutil.which("probe-rs")
    if a.elf is not None and chip is not None and probe_rs:
        elfs = [*a.other_images, a.elf]  # image 0 last: it releases the other cores
        for elf in elfs:
            cmd = [probe_rs, "download", "--chip", chip, str(elf)]
            log(" ".join(cmd))
            _run(cmd, "probe-rs")
        if a.other_images:
            cmd = [probe_rs, "reset", "--chip", chip]
            log(" ".join(cmd))
            _run(cmd, "probe-rs reset")
        return f"downloaded {', '.join(e.name for e in elfs)} to the {chip} with probe-rs"
    if chip is None and "uf2" not in board.firmware.formats:
        raise ToolMissing(f"arielml cannot flash {board.name} yet (no UF2 image and no known probe-rs chip)")
    if "uf2" not in board.firmware.formats:
        raise ToolMissing(f"cannot flash {board.name}: probe-rs is not on PATH; {PROBE_RS_HINT}")
    raise ToolMissing(f"cannot flash {board.name}: no UF2 drive mounted and neither picotool nor probe-rs "
                      f"on PATH; {INSTALL_HINT}")


def esp_tools(env_path: str | None = None) -> dict[str, str | None]:
    """espflash and esptool as found on PATH (esptool before v5 installs as esptool.py)."""
    path = os.environ.get("PATH", "") if env_path is None else env_path
    return {"espflash": shutil.which("espflash", path=path),
            "esptool": shutil.which("esptool", path=path) or shutil.which("esptool.py", path=path)}


def flash_esp(board: Board, a: Artifact, log) -> str:
    """An esp-hal board: espflash with the ELF, else esptool with an app image made from it."""
    chip = board.firmware.esp_chip
    if a.elf is None:
        raise UsageError(f"{board.name} is flashed from firmware.elf, and there is none with {a.uf2}")
    tools = esp_tools()
    if tools["espflash"]:
        cmd = [tools["espflash"], "flash", "--chip", chip, str(a.elf)]
        log(" ".join(cmd))
        _run(cmd, "espflash")
        return f"flashed {a.elf.name} to the {chip} with espflash"
    if tools["esptool"]:
        with tempfile.TemporaryDirectory(prefix="arielml-esp-") as tmp:
            image = Path(tmp) / "app.bin"
            for cmd, what in (([tools["esptool"], "--chip", chip, "elf2image", "--output", str(image),
                                str(a.elf)], "esptool elf2image"),
                              ([tools["esptool"], "--chip", chip, "write_flash", f"{ESP_APP_OFFSET:#x}",
                                str(image)], "esptool write_flash")):
                log(" ".join(cmd))
                _run(cmd, what)
        return (f"wrote {a.elf.name} as an app image at {ESP_APP_OFFSET:#x} of the {chip} with esptool "
                "(the board's bootloader and partition table stay)")
    raise ToolMissing(f"cannot flash {board.name}: neither espflash nor esptool on PATH; {ESP_INSTALL_HINT}")
