#!/usr/bin/env python3
"""Parallel speedup measured on Spike (board spike-rv32) beside the replay's prediction.

For each model: every task of the 1-, 2- and 4-core tilings measured alone on one hart of
QEMU riscv32 (-icount, `arielml profile`, as benchmarks/speedup.py does), the static
schedule computed from those costs and replayed (speedup.py's `predict`: the measured
executor overhead per task, WAKE for every dependency that crosses cores); then that same
compiled schedule (same tiles, same placement) built for spike-rv32 and run there on 1, 2
and 4 harts, its outputs checked against TFLM and its wall time read from Spike's mtime
(one pass over the harts per 50 ticks, 5,000 instructions per hart per pass: one tick is
100 instructions of wall time). The measured speedup is Spike's 1-hart time over its
N-hart time; the predicted one is the replay's 1-core time over its N-core makespan.

Last, the wake-up latency that makes the replay fit Spike best (per cross-core dependency,
least squares over all runs, relative) is printed, and written to replay_calibration.json
(beside this script) with --write-calibration; with --calibrated the replay uses the
stored value for the Spike board.

Usage: .venv/bin/python benchmarks/spike_speedup.py [--models ...] [--cores 2 4] [--runs 2]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import INT8_MODELS, model_path, table
from speedup import WAKE, predict

from arielml.boards import get_board
from arielml.build import build_compiled
from arielml.oracle.check import check_tflite
from arielml.oracle.tensors_io import random_inputs
from arielml.paths import cache_dir
from arielml.pipeline import compile_graph, load
from arielml.schedule.profiles import load_profile
from arielml.target.profile import profile_model
from arielml.target.spike import spike_device

CALIBRATION = Path(__file__).resolve().parent / "replay_calibration.json"
SPIKE, PROFILED = "spike-rv32", "qemu-riscv32"


def task_profile(path: Path, g, board, cores: int):
    """The stored QEMU profile of this tiling, measured now if there is none."""
    prof = load_profile(g.digest, board, cores)
    return prof if prof is not None else profile_model(path, board, cores)


def run_on_spike(name: str, path: Path, g, spike, prof, cores: int, runs: int) -> dict:
    c = compile_graph(g, source=path, board=spike, cores=cores, profile=prof.as_costs())
    if len(c.tasks) != len(prof.task_instructions):
        raise SystemExit(f"error: {name}: {len(c.tasks)} tasks on {SPIKE}, the profile has "
                         f"{len(prof.task_instructions)}: not the same tiling")
    build = build_compiled(c, spike, cache_dir() / "builds" / f"{name}-{SPIKE}-bench{cores}")
    ticks = []
    with spike_device(build, spike) as dev:
        for seed in range(runs):
            x = random_inputs(g, seed)
            r = dev.infer(x, timeout=1800.0)
            report = check_tflite(g, path, x, r.outputs)
            if not report.ok:
                raise SystemExit(f"error: {name} on {cores} harts of {SPIKE}: {report.summary()}")
            ticks.append(r.total_ticks)
    return {"compiled": c, "wall": min(ticks) * 1e9 / spike.firmware.counter_hz}


def fit_wake(points) -> float:
    """The wake latency (instructions, 0..20,000 in steps of 25) minimising the squared
    relative error of the replayed speedups against the measured ones."""
    def err(w):
        return sum((p["single"] / predict(p["compiled"].schedule, p["prof"], wake=w).makespan
                    / p["measured"] - 1) ** 2 for p in points)
    return min((25.0 * i for i in range(801)), key=err)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=INT8_MODELS)
    ap.add_argument("--cores", type=int, nargs="+", default=[2, 4])
    ap.add_argument("--runs", type=int, default=2, help="inferences per build (the minimum time is kept)")
    ap.add_argument("--calibrated", action="store_true", help="replay with the stored Spike wake latency")
    ap.add_argument("--write-calibration", action="store_true", help=f"store the fitted value in {CALIBRATION.name}")
    args = ap.parse_args()
    if args.runs < 1 or any(n not in (2, 3, 4) for n in args.cores):
        raise SystemExit("error: --runs must be >= 1 and --cores within 2..4 (spike-rv32 has 4 harts)")
    spike, qemu = get_board(SPIKE), get_board(PROFILED)
    wake = json.loads(CALIBRATION.read_text())[SPIKE]["wake"] if args.calibrated else WAKE
    rows, points = [], []
    for name in args.models:
        path = model_path(name)
        g = load(path)
        prof1 = task_profile(path, g, qemu, 1)
        base = run_on_spike(name, path, g, spike, prof1, 1, args.runs)
        single = predict(base["compiled"].schedule, prof1, wake=wake).makespan
        rows.append([name, 1, f"{prof1.total_instructions:,.0f}", f"{single:,.0f}", f"{base['wall']:,.0f}",
                     "1.00x", "1.00x", f"{base['wall'] / single - 1:+.1%}"])
        for n in args.cores:
            prof = task_profile(path, g, qemu, n)
            m = run_on_spike(name, path, g, spike, prof, n, args.runs)
            pred = predict(m["compiled"].schedule, prof, wake=wake)
            sp_pred, sp_meas = single / pred.makespan, base["wall"] / m["wall"]
            points.append({"single": single, "measured": sp_meas, "compiled": m["compiled"], "prof": prof})
            rows.append([name, n, "", f"{pred.makespan:,.0f}", f"{m['wall']:,.0f}", f"{sp_pred:.2f}x",
                         f"{sp_meas:.2f}x", f"{sp_meas / sp_pred - 1:+.1%}"])
        print(f"measured {name}", flush=True)
    print(f"\n{SPIKE}: tasks measured on {PROFILED} (QEMU -icount), replayed with wake latency {wake:g} "
          f"instructions; Spike's wall time in instructions (mtime x 100), minimum of {args.runs} runs, "
          f"every output bit-exact with TFLM")
    print(table(rows, ["model", "harts", "QEMU 1-core", "replay", "Spike wall", "replay speedup",
                       "Spike speedup", "Spike vs replay"]))
    if points:
        best = fit_wake(points)
        print(f"\nbest-fitting wake latency on Spike: {best:g} instructions per cross-core dependency")
        if args.write_calibration:
            CALIBRATION.write_text(json.dumps({SPIKE: {"wake": best, "profiled_on": PROFILED,
                                                       "models": args.models, "cores": args.cores}}, indent=1) + "\n")
            print(f"written to {CALIBRATION}")


if __name__ == "__main__":
    main()
