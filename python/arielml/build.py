"""`arielml build`: model + board -> firmware crate -> ELF (+ .bin) + manifest.json.

The memory fit is checked from the plan BEFORE cargo runs, so a model too big for a
board fails in a second with the numbers, not after a long compile.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from arielml.arena import ArenaPlan, plan_arena
from arielml.boards import Board
from arielml.codegen import GeneratedCrate, safe, write_crate
from arielml.elf import image_memories, memory_use, write_bin
from arielml.errors import UsageError
from arielml.firmware import build_crate, cache_dir, shared_block_bytes, shared_region
from arielml.pipeline import CODE_ESTIMATE, Compiled, compile_graph, compile_model
from arielml.uf2 import write_uf2

# Bytes of runtime state besides the per-task words: the protocol decoder's frame buffer,
# the server, the executor's per-core words, the serial lock.
RUNTIME_FIXED = 1100 + 64 + 8 * 8 * 2 + 16


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


def scratch_bytes(c: Compiled, cores=None) -> int:
    """The kernels' per-core scratch of `cores` (default: every core)."""
    words = c.scratch_words()
    return 4 * sum(w for k, w in enumerate(words) if cores is None or k in cores)


def runtime_bytes(c: Compiled) -> int:
    """Executor state and every core's scratch."""
    return RUNTIME_FIXED + 8 * len(c.tasks) + scratch_bytes(c)


def check_fit(board: Board, c: Compiled, arena: ArenaPlan, consts: int) -> dict:
    ram_mem, flash_mem = board.memory("ram"), board.memory("flash")
    stacks = board.firmware.stack_bytes * len(board.cores)
    need_ram = arena.size + runtime_bytes(c) + stacks
    need_flash = consts + CODE_ESTIMATE
    if need_ram > ram_mem.size:
        raise UsageError(
            f"{c.source.name} does not fit {board.name}'s RAM: needs {need_ram:,} bytes "
            f"(arena {arena.size:,} + runtime {runtime_bytes(c):,} + stacks {stacks:,}), "
            f"board has {ram_mem.size:,}")
    if need_flash > flash_mem.size:
        raise UsageError(
            f"{c.source.name} does not fit {board.name}'s flash: needs about {need_flash:,} bytes "
            f"(constants {consts:,} + code ~{CODE_ESTIMATE:,}), board has {flash_mem.size:,}")
    return {"ram_estimate": need_ram, "flash_estimate": need_flash, "stack_bytes": stacks}


def check_fit_images(board: Board, c: Compiled, crate: GeneratedCrate) -> dict:
    """A multi-image board: each image's flash (its tasks' constants + code) and RAM (its
    stack, + runtime state on image 0), and the shared block in the shared RAM (with
    image 0's RAM when they are one memory)."""
    shared = board.shared_memory()
    block = shared_block_bytes(crate.shared_bytes)
    if block > shared.size:
        raise UsageError(f"{c.source.name} does not fit {board.name}'s shared RAM ({shared.name}): "
                         f"needs {block:,} bytes (arena + executor words), it has {shared.size:,}")
    per_image = []
    for k, im in enumerate(board.images):
        flash, ram = board.named(im.flash), board.named(im.ram)
        state = (RUNTIME_FIXED + 8 * len(c.tasks) if k == 0 else 0) + scratch_bytes(c, im.cores)
        need_ram = board.firmware.stack_bytes + state
        if ram == shared:
            need_ram += block
        need_flash = crate.image_consts[k] + CODE_ESTIMATE
        core = board.cores[im.cores[0]].name
        if need_ram > ram.size:
            raise UsageError(
                f"{c.source.name} does not fit {board.name}'s {core} RAM ({ram.name}): needs {need_ram:,} bytes "
                f"(stack {board.firmware.stack_bytes:,}" + (f" + runtime {state:,}" if state else "")
                + (f" + shared block {block:,}" if ram == shared else "") + f"), it has {ram.size:,}")
        if need_flash > flash.size:
            raise UsageError(
                f"{c.source.name} does not fit {board.name}'s {core} flash ({flash.name}): needs about "
                f"{need_flash:,} bytes (constants of its tasks {crate.image_consts[k]:,} + code "
                f"~{CODE_ESTIMATE:,}), it has {flash.size:,}")
        per_image.append({"ram_estimate": need_ram, "flash_estimate": need_flash})
    return {"ram_estimate": per_image[0]["ram_estimate"], "flash_estimate": per_image[0]["flash_estimate"],
            "stack_bytes": board.firmware.stack_bytes * len(board.cores), "images": per_image}


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
    from arielml.profile import load_profile  # profile imports build: import at use

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
