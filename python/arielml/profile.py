"""`arielml profile`: measure every task alone on one core, store the costs, reuse them.

The model is tiled as for N cores, but all tasks run on core 0 in dependency order, so
each task's count is its cost without interference. On QEMU the machine runs with
-icount shift=0: counts are instructions, deterministic, quantised by the board counter
(one TIMER0 tick is 50 instructions on qemu-an521).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from arielml.boards import REPO_ROOT, Board
from arielml.build import build_compiled
from arielml.errors import UsageError
from arielml.firmware import cache_dir
from arielml.pipeline import Compiled, compile_model
from arielml.runners.device import qemu_device
from arielml.schedule import Placement, Schedule
from arielml.tensors_io import random_inputs


@dataclass(frozen=True)
class Profile:
    model_sha256: str
    board: str
    cores: int  # the tiling the tasks come from
    task_instructions: list[float]
    total_instructions: float  # one inference, all tasks on one core
    overhead_per_task: float  # executor cost per task: total minus the tasks, spread

    def as_costs(self) -> dict[int, float]:
        return dict(enumerate(self.task_instructions))


def one_core(c: Compiled) -> Compiled:
    """The same tasks, all on core 0 in id (topological) order."""
    order = tuple(t.id for t in c.tasks)
    placements, clock = [], 0.0
    for t in order:
        placements.append(Placement(t, 0, clock, clock + c.costs[t]))
        clock += c.costs[t]
    sched = Schedule(tuple(placements), (order,), tuple(t.deps for t in c.tasks))
    return dataclasses.replace(c, schedule=sched, cores=1, mode="profile")


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


def profile_model(model: Path, board: Board, cores: int, *, runs: int = 2, log=None) -> Profile:
    if not board.emulated:
        raise UsageError(f"{board.name}: profiling real boards over --port is not built yet")
    compiled = compile_model(model, board=board, cores=cores)
    single = one_core(compiled)
    out = cache_dir() / "builds" / f"{Path(model).stem}-{board.name}-profile{cores}"
    build = build_compiled(single, board, out, log=log)
    to_instr = 1e9 / board.firmware.counter_hz
    with qemu_device(build, board, icount=True) as dev:
        results = [dev.infer(random_inputs(compiled.graph, seed)) for seed in range(runs)]
    per_task = [min(r.task_ticks[t] for r in results) * to_instr for t in range(len(compiled.tasks))]
    total = min(r.total_ticks for r in results) * to_instr
    overhead = max(0.0, (total - sum(per_task)) / max(1, len(per_task)))
    sha = hashlib.sha256(Path(model).read_bytes()).hexdigest()
    prof = Profile(sha, board.name, cores, per_task, total, overhead)
    path = profile_path(model, board, cores)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dataclasses.asdict(prof), indent=1) + "\n")
    return prof


def load_profile(model: Path, board: Board, cores: int) -> Profile | None:
    path = profile_path(model, board, cores)
    if not path.exists():
        return None
    return Profile(**json.loads(path.read_text()))
