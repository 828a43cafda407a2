"""Stored task profiles: the measured cost of every task (`arielml profile`), keyed by the
model's bytes, the board, the tiling and the firmware sources that were measured.

Measuring is target/profile.py's job; this module only names, writes and reads the
files, so the build can use stored costs without importing anything that runs firmware.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from arielml.boards import REPO_ROOT, Board
from arielml.paths import cache_dir


@dataclass(frozen=True)
class Profile:
    model_sha256: str
    board: str
    cores: int  # the tiling the tasks come from
    # Costs in cycles of core 0 (see the module docstring); the names are from when QEMU
    # was the only way to measure, where cycles are instructions.
    task_instructions: list[float]
    total_instructions: float  # one inference, all tasks on one core
    overhead_per_task: float  # executor cost per task: total minus the tasks, spread
    unit: str = "instructions"  # "instructions" (QEMU -icount) or "cycles" (a real board's counter)

    def as_costs(self) -> dict[int, float]:
        return dict(enumerate(self.task_instructions))


def firmware_fingerprint(board: Board) -> str:
    """Hash of the Rust sources a profile measured: new kernels make old profiles stale."""
    h = hashlib.sha256()
    for crate in ("firmware/kernels", "firmware/runtime", f"firmware/boards/{board.firmware.crate}"):
        for f in sorted((REPO_ROOT / crate).rglob("*.rs")):
            h.update(f.relative_to(REPO_ROOT).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


def profile_path(model: Path, board: Board, cores: int) -> Path:
    digest = hashlib.sha256(Path(model).read_bytes()).hexdigest()
    return cache_dir() / "profiles" / f"{digest[:16]}-{board.name}-{cores}c-fw{firmware_fingerprint(board)}.json"


def store_profile(model: Path, board: Board, cores: int, prof: Profile) -> Path:
    path = profile_path(model, board, cores)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dataclasses.asdict(prof), indent=1) + "\n")
    return path


def load_profile(model: Path, board: Board, cores: int) -> Profile | None:
    path = profile_path(model, board, cores)
    if not path.exists():
        return None
    return Profile(**json.loads(path.read_text()))  # files from before `unit`: instructions
