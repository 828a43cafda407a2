#!/usr/bin/env python3
"""Parallel speedup from measured per-task costs, against the barrier-per-op baseline.

For each model and core count: our own single-core instruction count (QEMU -icount, one
inference, no tiling), then every task of the N-core tiling measured alone on one core
(`arielml profile`), the static schedule recomputed from those measured costs and
replayed (replay.py) with the measured executor overhead per task (printed: the
one-core run of all tasks minus the tasks themselves, per task) and WAKE instructions
for every dependency that crosses cores; the same replay for the prior art's scheme
(equal tiles round-robin, a barrier after every op) with the same measured tasks.

Usage: .venv/bin/python benchmarks/speedup.py [--board qemu-riscv32] [--cores 2 4] [--models ...]
Figures are instructions of the emulated cores (QEMU cannot show parallel wall time:
see ../shared/TOOLCHAIN.md); WAKE is an assumption about a real core's wake-up latency.
"""

from __future__ import annotations

import argparse

from _common import INT8_MODELS, TFLM_ARENA, model_path, table

from arielml.boards import get_board
from arielml.build import runtime_bytes
from arielml.pipeline import SYNC_CYCLES, compile_graph, load
from arielml.plan.arena import plan_arena
from arielml.schedule.replay import replay
from arielml.target.profile import profile_model

WAKE = 100.0  # instructions from a SEV/IPI on one core to the waiting core running again


def predict(schedule, prof, wake: float = WAKE, extra_overhead: float = 0.0):
    """The replay of `schedule` with the measured task costs and per-task overhead of
    `prof` (plus `extra_overhead` per task), and `wake` for every cross-core dependency."""
    return replay(schedule.cores, schedule.deps, prof.task_instructions,
                  overhead=prof.overhead_per_task + extra_overhead, wake_latency=wake)


def measure(name: str, board, cores: int, exact: bool) -> dict:
    path = model_path(name)
    g = load(path)
    single = profile_model(path, board, 1).total_instructions
    prof = profile_model(path, board, cores)
    costs = prof.as_costs()
    out = {"single": single, "overhead": prof.overhead_per_task, "tasks": len(prof.task_instructions)}
    for mode in ("static", "barrier"):
        c = compile_graph(g, source=path, board=board, cores=cores, mode=mode, profile=costs, exact_deps=exact)
        out[mode] = predict(c.schedule, prof).makespan
        out[mode + "_ram"] = plan_arena(c).size + runtime_bytes(c)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--board", default="qemu-riscv32")
    ap.add_argument("--cores", type=int, nargs="+", default=None)
    ap.add_argument("--models", nargs="+", default=INT8_MODELS)
    ap.add_argument("--deps", choices=["exact", "op"], default="op",
                    help="tile-exact dependencies or whole producer ops (less RAM)")
    args = ap.parse_args()
    board = get_board(args.board)
    counts = args.cores or [n for n in (2, 4) if n <= len(board.cores)]
    rows = []
    for name in args.models:
        for n in counts:
            m = measure(name, board, n, args.deps == "exact")
            rows.append([name, n, f"{m['single']:,.0f}", f"{m['static']:,.0f}", f"{m['single'] / m['static']:.2f}x",
                         f"{m['barrier']:,.0f}", f"{m['single'] / m['barrier']:.2f}x",
                         f"{m['static_ram'] / TFLM_ARENA[name]:.2f}x", f"{m['barrier_ram'] / TFLM_ARENA[name]:.2f}x",
                         m["tasks"], f"{m['overhead']:.0f}"])
            print(f"measured {name} on {n} cores", flush=True)
    print(f"\n{board.name}, {args.deps} dependencies; instructions (QEMU -icount); wake latency {WAKE:g}; "
          f"scheduler sync estimate {SYNC_CYCLES:g}")
    print(table(rows, ["model", "cores", "1-core", "static makespan", "speedup", "barrier makespan",
                       "speedup", "RAM/TFLM static", "RAM/TFLM barrier",
                       "tasks", "overhead/task"]))


if __name__ == "__main__":
    main()
