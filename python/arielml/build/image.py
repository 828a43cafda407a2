"""`arielml build`: model + board -> firmware crate -> ELF (+ .bin) + manifest.json.

The memory fit is checked from the plan BEFORE cargo runs, so a model too big for a
board fails in a second with the numbers, not after a long compile.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from arielml.boards import Board
from arielml.build.cargo import build_crate, shared_region
from arielml.build.elf import image_memories, memory_use, write_bin
from arielml.build.fit import check_fit, check_fit_images, runtime_bytes
from arielml.build.uf2 import write_uf2
from arielml.codegen import GeneratedCrate, safe, write_crate
from arielml.codegen.model_rs import INJECT_ENV, injection
from arielml.paths import cache_dir
from arielml.pipeline import Compiled, compile_graph, compile_model
from arielml.plan.arena import ArenaPlan, plan_arena
from arielml.schedule.profiles import load_profile


@dataclass(frozen=True)
class Build:
    out: Path
    elf: Path
    manifest: dict
    compiled: Compiled
    arena: ArenaPlan

    @property
    def manifest_path(self) -> Path:
        return self.out / "manifest.json"


def default_out(model: Path, board: Board, cores: int, mode: str) -> Path:
    tag = "" if mode == "static" else f"-{mode}"
    # The model's name is foreign: a name that is not a plain path component keeps only its
    # safe characters, plus a hash of the whole name so that two such names do not collide.
    stem = safe.path_part(model.stem)
    if stem != model.stem:
        stem += "-" + hashlib.sha256(model.stem.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return cache_dir() / "builds" / f"{stem}-{safe.path_part(board.name)}-{cores}c{tag}"


def _manifest(c: Compiled, arena: ArenaPlan, board: Board, fit: dict, elf: Path, crate, tc,
              artifacts: dict) -> dict:
    g = c.graph
    images = _images(board, crate, artifacts)
    used = images[0]["use"]

    def io(names):
        return [{"name": n, "dtype": g.tensor(n).dtype.value, "shape": list(g.tensor(n).shape),
                 "offset": arena.offsets[n], "bytes": g.tensor(n).type.nbytes} for n in names]

    return {
        "arielml": 1,
        "board": board.name,
        "cores": c.cores,
        "schedule": c.mode,
        "model": {"file": c.source.name, "sha256": hashlib.sha256(c.source.read_bytes()).hexdigest(),
                  "id": f"{crate.model_id:016x}"},
        "toolchain": {"rustc": str(tc.rustc), "version": tc.version, "kind": tc.kind},
        "inputs": io(g.inputs),
        "outputs": io(g.outputs),
        "tasks": [{"id": t.id, "op": t.tile.op, "kind": g.ops[t.tile.op].kind.value,
                   "rows": list(t.tile.rows), "channels": list(t.tile.channels),
                   "core": c.schedule.placements[t.id].core, "deps": list(c.schedule.deps[t.id]),
                   "estimated_cycles": round(c.costs[t.id])} for t in c.tasks],
        "per_core": [list(tbl) for tbl in c.schedule.cores],
        # A test-only fault put into one task (codegen/model_rs.py): recorded so no such
        # build passes for a normal one.
        **({"test_inject": os.environ[INJECT_ENV]} if injection() else {}),
        "memory": {
            "arena_bytes": arena.size,
            "runtime_bytes": runtime_bytes(c),
            "peak_ram_bytes": arena.size + runtime_bytes(c),
            "constants_bytes": crate.consts_bytes,
            "elf_flash_bytes": used.flash_bytes,
            "elf_ram_bytes": used.ram_bytes,
            "stack_bytes": fit["stack_bytes"],
            "board_ram_bytes": board.memory("ram").size,
            "board_flash_bytes": board.memory("flash").size,
            "sections": used.sections,
            "buffers": {n: {"offset": arena.offsets[n], "bytes": arena.sizes[n]} for n in sorted(arena.offsets)},
        },
        "artifacts": artifacts,
        "images": [{k: v for k, v in im.items() if k != "use"} for im in images],
    }


def _usable(board: Board, crate: GeneratedCrate, ram, image: int) -> int:
    """RAM of `ram` image `image` may use: all of its own; of the shared RAM of another
    image, only the shared block."""
    if board.multi_image and ram == board.shared_memory() and ram.name != board.images[image].ram:
        return shared_region(board, crate.shared_bytes)[1]
    return ram.size


def _images(board: Board, crate: GeneratedCrate, artifacts: dict) -> list[dict]:
    """Per firmware image: its cores, files and memory figures (one entry on most boards)."""
    out = []
    for k, cores in enumerate(crate.images):
        files = artifacts["images"][k] if board.multi_image else artifacts
        elf = Path(artifacts["dir"]) / files["elf"]
        used = memory_use(elf, board, k)
        flash, rams = image_memories(board, k)
        out.append({"cores": list(cores), "elf": files["elf"], **({"bin": files["bin"]} if "bin" in files else {}),
                    "constants_bytes": crate.image_consts[k], "elf_flash_bytes": used.flash_bytes,
                    "elf_ram_bytes": used.ram_bytes, "flash_memory": flash.name,
                    "ram_memories": [r.name for r in rams], "board_flash_bytes": flash.size,
                    "board_ram_bytes": sum(_usable(board, crate, r, k) for r in rams), "use": used})
    return out


def build_model(model: Path, board: Board, *, cores: int | None = None, out: Path | None = None,
                mode: str = "static", log=None) -> Build:
    cores = cores or len(board.cores)
    compiled = compile_model(model, board=board, cores=cores, mode=mode)
    costs = stored_costs(Path(model), board, compiled)
    if costs is not None:  # reschedule the same tasks with their measured costs
        compiled = compile_graph(compiled.graph, source=Path(model), board=board, cores=cores, mode=mode,
                                 profile=costs)
    out = Path(out) if out else default_out(Path(model), board, cores, mode)
    return build_compiled(compiled, board, out, log=log)


def stored_costs(model: Path, board: Board, compiled: Compiled) -> dict[int, float] | None:
    """Measured task costs from `arielml profile`, when one exists for this tiling."""
    prof = load_profile(model, board, compiled.cores)
    if prof is None or len(prof.task_instructions) != len(compiled.tasks):
        return None
    return prof.as_costs()


def build_compiled(compiled: Compiled, board: Board, out: Path, *, log=None) -> Build:
    """Firmware for an already compiled (and scheduled) model."""
    log = log or (lambda m: None)
    if board.multi_image:
        return _build_images(compiled, board, out, log)
    cores = compiled.cores
    arena = plan_arena(compiled)
    consts = sum(t.type.nbytes for t in compiled.graph.constants())
    fit = check_fit(board, compiled, arena, consts)
    out.mkdir(parents=True, exist_ok=True)
    log(f"{len(compiled.tasks)} tasks on {cores} core(s), arena {arena.size:,} bytes; "
        f"generating the crate in {out / 'crate'}")
    crate = write_crate(compiled, arena, board, out)
    result = build_crate(board, crate.package, manifest=crate.manifest, binary=crate.package, log=log)
    elf = out / "firmware.elf"
    shutil.copyfile(result.elf, elf)
    artifacts = {"elf": elf.name}
    if "bin" in board.firmware.formats:
        artifacts["bin"] = write_bin(elf, out / "firmware.bin", board).name
    if "uf2" in board.firmware.formats:
        artifacts["uf2"] = write_uf2(elf, out / "firmware.uf2", board).name
    return _finish(compiled, arena, board, fit, out, elf, crate, result, artifacts)


def _finish(compiled, arena, board, fit, out, elf, crate, result, artifacts) -> Build:
    manifest = _manifest(compiled, arena, board, fit, elf, crate, result.toolchain, dict(artifacts, dir=str(out)))
    del manifest["artifacts"]["dir"]
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return Build(out, elf, manifest, compiled, arena)


def _build_images(compiled: Compiled, board: Board, out: Path, log) -> Build:
    """One ELF (and .bin) per image; the crate is generated first for each image's constants."""
    arena = plan_arena(compiled)
    out.mkdir(parents=True, exist_ok=True)
    log(f"{len(compiled.tasks)} tasks on {compiled.cores} core(s) in {len(board.images)} images, "
        f"arena {arena.size:,} bytes; generating the crate in {out / 'crate'}")
    crate = write_crate(compiled, arena, board, out)
    fit = check_fit_images(board, compiled, crate)
    images, result = [], None
    for k in range(len(board.images)):
        result = build_crate(board, crate.package, manifest=crate.manifest, binary=crate.package,
                             image=k, shared_bytes=crate.shared_bytes, log=log)
        elf = out / ("firmware.elf" if k == 0 else f"firmware-image{k}.elf")
        shutil.copyfile(result.elf, elf)
        files = {"elf": elf.name}
        if "bin" in board.firmware.formats:
            files["bin"] = write_bin(elf, out / elf.with_suffix(".bin").name, board, k).name
        images.append(files)
    artifacts = {**images[0], "images": images}
    return _finish(compiled, arena, board, fit, out, out / "firmware.elf", crate, result, artifacts)
