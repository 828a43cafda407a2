"""Stored task profiles: the measured cost of every task (`arielml profile`), keyed by the
model's bytes (their SHA-256, Graph.digest), the board, the tiling and the firmware sources that were measured.

Measuring is target/profile.py's job; this module only names, writes and reads the
files, so the build can use stored costs without importing anything that runs firmware.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
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
    tiles: str = ""  # tiles_digest of the measured tasks ("" in files from before it)

    def as_costs(self) -> dict[int, float]:
        return dict(enumerate(self.task_instructions))


def _sources(board: Board) -> list[Path]:
    return [f for crate in ("firmware/kernels", "firmware/runtime", f"firmware/boards/{board.firmware.crate}")
            for f in sorted((REPO_ROOT / crate).rglob("*.rs"))]


def firmware_fingerprint(board: Board) -> str:
    """Hash of the Rust sources a profile measured: new kernels make old profiles stale.

    Hashing every source on every build is what it would cost without a cache; the hash is
    kept in the user cache next to the sources' (path, size, mtime) signature, which
    takes only a stat per file to check, and recomputed when any of them changes."""
    files = _sources(board)
    stats = [(f.relative_to(REPO_ROOT).as_posix(), f.stat()) for f in files]
    signature = hashlib.sha256("\n".join(f"{rel} {st.st_size} {st.st_mtime_ns}" for rel, st in stats)
                               .encode()).hexdigest()
    cache = cache_dir() / "fingerprints" / f"{signature[:32]}.txt"
    try:
        cached = cache.read_text().strip()
        if len(cached) == 12:
            return cached
    except OSError:
        pass
    h = hashlib.sha256()
    for f in files:
        h.update(f.relative_to(REPO_ROOT).as_posix().encode() + b"\0" + f.read_bytes())
    fingerprint = h.hexdigest()[:12]
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(fingerprint + "\n")
        tmp.replace(cache)  # atomic: a killed build leaves no half-written entry
    except OSError:
        pass  # a read-only cache only costs the rehash
    return fingerprint


def tiles_digest(tasks) -> str:
    """Hash of every task's tile (op, rows, channels) in id order: a profile's costs belong
    to the tasks it measured, and another partitioner makes other tasks of the same count."""
    text = ";".join(f"{t.tile.op}:{t.tile.rows}:{t.tile.channels}" for t in tasks)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_digest(model: Path) -> str:
    """SHA-256 (hex) of a model file, as the frontends store it in Graph.digest."""
    return hashlib.sha256(Path(model).read_bytes()).hexdigest()


def profile_path(digest: str, board: Board, cores: int) -> Path:
    """Where the profile of the model whose file hashes to `digest` (Graph.digest) lives."""
    return cache_dir() / "profiles" / f"{digest[:16]}-{board.name}-{cores}c-fw{firmware_fingerprint(board)}.json"


def store_profile(board: Board, prof: Profile) -> Path:
    path = profile_path(prof.model_sha256, board, prof.cores)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dataclasses.asdict(prof), indent=1) + "\n")
    return path


def load_profile(digest: str, board: Board, cores: int) -> Profile | None:
    path = profile_path(digest, board, cores)
    if not path.exists():
        return None
    return Profile(**json.loads(path.read_text()))  # files from before `unit`: instructions
