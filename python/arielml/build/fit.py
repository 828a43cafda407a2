"""Memory fit, checked from the plan BEFORE cargo runs: a model too big for a board fails in
a second with the numbers, not after a long compile. One-image boards check the board's RAM
and flash; multi-image boards each image's and the shared block."""

from __future__ import annotations

from arielml.boards import Board
from arielml.build.cargo import shared_block_bytes
from arielml.codegen import GeneratedCrate
from arielml.errors import UsageError
from arielml.pipeline import CODE_ESTIMATE, Compiled
from arielml.plan.arena import ArenaPlan

# Bytes of runtime state besides the per-task words: the protocol decoder's frame buffer,
# the server, the executor's per-core words, the serial lock.
RUNTIME_FIXED = 1100 + 64 + 8 * 8 * 2 + 16



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
