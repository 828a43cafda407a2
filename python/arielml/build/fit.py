"""Memory fit, checked from the plan BEFORE cargo runs: a model too big for a board fails in
a second with the numbers, not after a long compile. One-image boards check the board's RAM
and flash; multi-image boards each image's and the shared block."""

from __future__ import annotations

from arielml.boards import Board
from arielml.build.cargo import shared_block_bytes
from arielml.codegen import GeneratedCrate
from arielml.codegen.model_rs import SYNC_BYTES
from arielml.errors import UsageError
from arielml.pipeline import CODE_ESTIMATE, Compiled
from arielml.plan.arena import ArenaPlan
from arielml.plan.state import plan_state

# Inference state besides the arena and the scratch, as the generated crate declares it:
# the executor's control words (`SyncWords`), two words per task (`done`, `ticks`), and
# the board crates' few statics (serial lock, hart entry, fault pointer).
BOARD_STATICS = 16
# The protocol server (core 0's request loop, device builds only) keeps its frame decoder,
# one 1,036-byte frame, on core 0's stack, which `stack_bytes` already holds; the fit check
# still reserves it and the board's I/O buffers on top, so it errs on the safe side.
SERVER_RESERVE = 1156


def scratch_bytes(c: Compiled, cores=None) -> int:
    """The kernels' per-core scratch of `cores` (default: every core)."""
    words = c.scratch_words()
    return 4 * sum(w for k, w in enumerate(words) if cores is None or k in cores)


def executor_bytes(c: Compiled) -> int:
    """The executor's shared words and per-task words (the `Shared` block minus the arena)."""
    return SYNC_BYTES + 8 * len(c.tasks) + BOARD_STATICS


def runtime_bytes(c: Compiled) -> int:
    """What an inference needs in RAM besides the arena: executor words and every core's
    scratch (what a `--emit lib` build holds; measured against the ELF in test_memory_qemu)."""
    return executor_bytes(c) + scratch_bytes(c)


def check_fit(board: Board, c: Compiled, arena: ArenaPlan, crate: GeneratedCrate) -> dict:
    """Every image of the board (one on most boards) against its memories: its flash (the
    constants of its tasks + code) and RAM (its cores' stacks, + runtime state on image 0,
    + the arena). With one image per core the arena is in the shared block, which must fit
    the shared RAM and counts in the RAM of the image it is part of."""
    multi = board.multi_image
    shared = board.shared_memory() if multi else None
    block = shared_block_bytes(crate.shared_bytes) if multi else 0
    if multi and block > shared.size:
        raise UsageError(f"{c.source.name} does not fit {board.name}'s shared RAM ({shared.name}): "
                         f"needs {block:,} bytes (arena + executor words), it has {shared.size:,}")
    per_image = []
    for k, im in enumerate(board.image_list()):
        flash, ram = board.named(im.flash), board.named(im.ram)
        stacks = board.firmware.stack_bytes * len(im.cores)
        state = (executor_bytes(c) + SERVER_RESERVE if k == 0 else 0) + scratch_bytes(c, im.cores)
        # (label, bytes) of what the image's RAM holds, as the refusal names them
        # The variables' persistent region (plan/state.py) is RAM of its own, beside the arena.
        parts = ([("arena", arena.size), ("state", plan_state(c.graph).size), ("runtime", state),
                  ("stacks", stacks)] if not multi else
                 [("stack", stacks), ("runtime", state), ("shared block", block if ram == shared else 0)])
        need_ram = sum(n for _, n in parts)
        need_flash = crate.image_consts[k] + CODE_ESTIMATE
        core = board.cores[im.cores[0]].name

        def where(kind: str, mem) -> str:  # one image: "the board's RAM"; else the image's core and memory
            return kind if not multi else f"{core} {kind} ({mem.name})"

        has = "board has" if not multi else "it has"
        if need_ram > ram.size:
            listed = " + ".join(f"{label} {n:,}" for label, n in parts if n or label == "arena")
            raise UsageError(f"{c.source.name} does not fit {board.name}'s {where('RAM', ram)}: needs "
                             f"{need_ram:,} bytes ({listed}), {has} {ram.size:,}")
        if need_flash > flash.size:
            what = "constants" if not multi else "constants of its tasks"
            raise UsageError(f"{c.source.name} does not fit {board.name}'s {where('flash', flash)}: needs about "
                             f"{need_flash:,} bytes ({what} {crate.image_consts[k]:,} + code ~{CODE_ESTIMATE:,}), "
                             f"{has} {flash.size:,}")
        per_image.append({"ram_estimate": need_ram, "flash_estimate": need_flash})
    fit = {**per_image[0], "stack_bytes": board.firmware.stack_bytes * len(board.cores)}
    return {**fit, "images": per_image} if multi else fit
