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
from arielml.build.fit import check_fit, runtime_bytes
from arielml.build.uf2 import write_uf2
from arielml.codegen import GeneratedCrate, generate_crate, safe
from arielml.codegen.model_rs import INJECT_ENV, injection
from arielml.paths import cache_dir
from arielml.pipeline import Compiled, compile_graph, compile_model
from arielml.plan.arena import ArenaPlan, plan_arena
from arielml.plan.state import plan_state
from arielml.schedule.profiles import load_profile, tiles_digest


@dataclass(frozen=True)
class Output:
    """What a build writes: its directory, its manifest.json, and the compiled model."""

    out: Path
    manifest: dict
    compiled: Compiled
    arena: ArenaPlan

    @property
    def manifest_path(self) -> Path:
        return self.out / "manifest.json"


@dataclass(frozen=True)
class Build(Output):
    """A firmware build (`--emit firmware`): `elf` is image 0's ELF."""

    elf: Path = Path()


def default_out(model: Path, board: Board, cores: int, mode: str) -> Path:
    tag = "" if mode == "static" else f"-{mode}"
    # The model's name is foreign: a name that is not a plain path component keeps only its
    # safe characters, plus a hash of the whole name so that two such names do not collide.
    stem = safe.path_part(model.stem)
    if stem != model.stem:
        stem += "-" + hashlib.sha256(model.stem.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return cache_dir() / "builds" / f"{stem}-{safe.path_part(board.name)}-{cores}c{tag}"


def _manifest(c: Compiled, arena: ArenaPlan, board: Board, fit: dict, crate, tc,
              artifacts: dict) -> dict:
    g = c.graph
    state = plan_state(g)
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
        "model": {"file": c.source.name, "sha256": g.digest,
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
            # The variables' persistent region, beside the arena (plan/state.py).
            "state_bytes": state.size,
            "variables": {n: {"offset": state.offsets[n], "bytes": state.sizes[n]} for n in sorted(state.offsets)},
            "peak_ram_bytes": arena.size + state.size + runtime_bytes(c),
            "constants_bytes": crate.consts_bytes,
            "elf_flash_bytes": used.flash_bytes,
            "elf_ram_bytes": used.ram_bytes,
            "stack_bytes": fit["stack_bytes"],
            "board_ram_bytes": board.memory("ram").size,
            "board_flash_bytes": board.memory("flash").size,
            "sections": used.sections,
            "buffers": {n: {"offset": arena.offsets[n], "bytes": arena.sizes[n]} for n in sorted(arena.offsets)},
            # Each band fusion the planner weighed (plan/fusion.py) and why it took it or not.
            "fusions": list(arena.notes),
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
    costs = stored_costs(board, compiled)
    if costs is not None:  # reschedule the same tasks with their measured costs
        compiled = compile_graph(compiled.graph, source=Path(model), board=board, cores=cores, mode=mode,
                                 profile=costs)
    out = Path(out) if out else default_out(Path(model), board, cores, mode)
    return build_compiled(compiled, board, out, log=log)


def stored_costs(board: Board, compiled: Compiled) -> dict[int, float] | None:
    """Measured task costs from `arielml profile`, when one exists for this tiling."""
    prof = load_profile(compiled.graph.digest, board, compiled.cores)
    if prof is None or prof.tiles != tiles_digest(compiled.tasks):
        return None
    return prof.as_costs()


def build_compiled(compiled: Compiled, board: Board, out: Path, *, log=None) -> Build:
    """Firmware for an already compiled (and scheduled) model: one ELF (and .bin, .uf2 as
    the board wants) per image of the board (most boards have one image for all cores).
    The crate is generated in memory first, so that the fit of every image is checked
    before anything is written or compiled."""
    log = log or (lambda m: None)
    arena = plan_arena(compiled)
    crate = generate_crate(compiled, arena, board, out)
    fit = check_fit(board, compiled, arena, crate)
    out.mkdir(parents=True, exist_ok=True)
    n = len(crate.images)
    log(f"{len(compiled.tasks)} tasks on {compiled.cores} core(s)" + (f" in {n} images" if n > 1 else "")
        + f", arena {arena.size:,} bytes" + (f", variables {st:,} bytes" if (st := plan_state(compiled.graph).size) else "")
        + f"; generating the crate in {crate.dir}")
    crate.write()
    images, result = [], None
    for k in range(n):
        result = build_crate(board, crate.package, manifest=crate.manifest, binary=crate.package,
                             image=k, shared_bytes=crate.shared_bytes, log=log)
        elf = out / ("firmware.elf" if k == 0 else f"firmware-image{k}.elf")
        shutil.copyfile(result.elf, elf)
        files = {"elf": elf.name}
        if "bin" in board.firmware.formats:
            files["bin"] = write_bin(elf, out / elf.with_suffix(".bin").name, board, k).name
        if "uf2" in board.firmware.formats:
            files["uf2"] = write_uf2(elf, out / elf.with_suffix(".uf2").name, board).name
        images.append(files)
    artifacts = {**images[0], **({"images": images} if board.multi_image else {}), "dir": str(out)}
    manifest = _manifest(compiled, arena, board, fit, crate, result.toolchain, artifacts)
    del manifest["artifacts"]["dir"]
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return Build(out, manifest, compiled, arena, elf=out / "firmware.elf")
