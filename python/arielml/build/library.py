"""`arielml build --emit lib`: model + board -> a library crate for the user's own firmware
(codegen/library.py), compiled once here for the board's core target to show it builds,
and a manifest.json describing it.

The memory fit is the firmware's (arena, constants, runtime state, one stack per core, an
estimate of code): a model the board cannot hold is refused before anything is written,
as for `--emit firmware`."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from arielml.boards import Board
from arielml.build.cargo import build_crate
from arielml.build.fit import check_fit, runtime_bytes
from arielml.build.image import Output, default_out, stored_costs
from arielml.codegen.library import generate_library
from arielml.errors import UsageError
from arielml.pipeline import compile_graph, compile_model
from arielml.plan.arena import plan_arena
from arielml.plan.state import plan_state


@dataclass(frozen=True)
class Library(Output):
    """A library build (`--emit lib|staticlib`)."""

    crate: Path = Path()  # the generated crate's directory: depend on it by path
    package: str = ""
    lib: str = ""  # the name to `use` (and the C prefix)


def build_library(model: Path, board: Board, out: Path | None = None, *, cores: int | None = None,
                  mode: str = "static", name: str | None = None, staticlib: bool = False, log=None) -> Library:
    """The library crate for `model` on `board` in `out` (default: the build cache's
    MODEL-BOARD-Nc-lib), compiled once for the board's core target. With `staticlib`: a
    static library for C, out/lib<name>.a with out/include/<name>.h."""
    log = log or (lambda m: None)
    if board.multi_image:
        raise UsageError(f"--emit lib: {board.name} boots one image per core; libraries for such boards "
                         f"(one crate per image and the shared block) are not generated yet")
    cores = cores or len(board.cores)
    if out is None:
        firmware_out = default_out(Path(model), board, cores, mode)
        out = firmware_out.with_name(firmware_out.name + ("-staticlib" if staticlib else "-lib"))
    out = Path(out)
    compiled = compile_model(model, board=board, cores=cores, mode=mode)
    costs = stored_costs(board, compiled)
    if costs is not None:
        compiled = compile_graph(compiled.graph, source=Path(model), board=board, cores=cores, mode=mode,
                                 profile=costs)
    arena = plan_arena(compiled)
    crate = generate_library(compiled, arena, board, out, name, staticlib=staticlib)
    fit = check_fit(board, compiled, arena, crate)
    out.mkdir(parents=True, exist_ok=True)
    log(f"{len(compiled.tasks)} tasks on {cores} core(s), arena {arena.size:,} bytes; generating the "
        f"library crate in {crate.dir}")
    crate.write()
    lib = crate.package.replace("-", "_")
    result = build_crate(board, crate.package, manifest=crate.manifest, image=0, lib=lib, staticlib=staticlib,
                         log=log)
    artifacts = {}
    if staticlib:  # cargo's copy is overwritten by the next build: keep ours next to the header
        (out / "include").mkdir(exist_ok=True)
        shutil.copyfile(result.elf, out / result.elf.name)
        shutil.copyfile(crate.dir / "include" / f"{lib}.h", out / "include" / f"{lib}.h")
        artifacts = {"staticlib": result.elf.name, "header": f"include/{lib}.h"}
    g = compiled.graph

    def io(names):
        return [{"index": i, "dtype": g.tensor(n).dtype.value, "shape": list(g.tensor(n).shape),
                 "scale": [float(s) for s in g.tensor(n).quant.scale] if g.tensor(n).quant else None,
                 "zero_point": [int(z) for z in g.tensor(n).quant.zero_point] if g.tensor(n).quant else None}
                for i, n in enumerate(names)]

    manifest = {
        "arielml": 1, "emit": "staticlib" if staticlib else "lib", "artifacts": artifacts, "board": board.name, "cores": compiled.cores, "schedule": compiled.mode,
        "model": {"file": compiled.source.name, "sha256": g.digest, "id": f"{crate.model_id:016x}"},
        "crate": {"dir": str(crate.dir), "package": crate.package, "lib": lib},
        "toolchain": {"rustc": str(result.toolchain.rustc), "version": result.toolchain.version},
        "inputs": io(g.inputs), "outputs": io(g.outputs), "tasks": len(compiled.tasks),
        "memory": {"arena_bytes": arena.size, "state_bytes": plan_state(compiled.graph).size,
                   "runtime_bytes": runtime_bytes(compiled),
                   "constants_bytes": crate.consts_bytes, "ram_estimate": fit["ram_estimate"],
                   "flash_estimate": fit["flash_estimate"], "board_ram_bytes": board.memory("ram").size,
                   "board_flash_bytes": board.memory("flash").size},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return Library(out, manifest, compiled, arena, crate=crate.dir, package=crate.package, lib=lib)
