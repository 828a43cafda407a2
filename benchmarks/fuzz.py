#!/usr/bin/env python3
"""Mutational fuzzing of the model importers and the host run: prints counts per outcome.

Usage: .venv/bin/python benchmarks/fuzz.py [--format tflite|onnx] [--cases N] [--seed S]
                                           [--cli-every K] [--timeout S] [--save DIR]
Each case mutates one seed model (the MLPerf Tiny int8 models for .tflite; the tests' small float
model built with onnx.helper for .onnx) and drives the Python API in-process:
import, optimise, compile for 2 cores, run every task on the host. Every K-th case also
goes through the CLI (`arielml run FILE --board host`) in a subprocess, where the exit
code and the stderr line are checked. Outcomes:
  ok         imported and ran;
  refused    a one-line UsageError (in-process) / `error:` line with exit 2 (CLI);
  traceback  any other exception, or a CLI exit other than 0 and 2, or more than one line;
  signal     the CLI process died of a signal (a native crash);
  hang       a case exceeded --timeout seconds.
Mutations on .tflite: structure-aware (the byte positions of quantisation scales and zero
points, tensor shapes, subgraph input/output and operator index vectors, found by parsing
the seed, overwritten with edge values: NaN, inf, 0, negative, huge) and byte-level (bit
flips biased to the flatbuffer's tables at both ends, truncation). On .onnx: dims,
attributes (empty, wrong type, huge, negative), initializer data and types, graph
inputs/outputs, then serialised with optional bit flips. Failing inputs are saved with
--save for regression tests.
"""

from __future__ import annotations

import argparse
import collections
import copy
import random
import signal
import struct
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

from _common import INT8_MODELS, ROOT, model_path

sys.path.insert(0, str(ROOT / "tests" / "python"))

import numpy as np  # noqa: E402

from arielml.errors import ArielError  # noqa: E402
from arielml.oracle.host import execution_order, run_tasks  # noqa: E402
from arielml.oracle.tensors_io import random_inputs  # noqa: E402
from arielml.pipeline import compile_model  # noqa: E402


class Hang(Exception):
    pass


def _alarm(_sig, _frame):
    raise Hang()


# --- .tflite -------------------------------------------------------------------------------

def tflite_fields(data: bytes) -> list[tuple[int, str]]:
    """(byte offset, kind) of fields worth overwriting, from parsing the seed."""
    import tflite
    m = tflite.Model.GetRootAsModel(data, 0)
    out = []

    def find_all(pat: bytes, kind: str, limit=4):
        start = 0
        for _ in range(limit):
            i = data.find(pat, start)
            if i < 0:
                return
            out.append((i, kind))
            start = i + 1

    for s in range(m.SubgraphsLength()):
        sg = m.Subgraphs(s)
        for t in range(sg.TensorsLength()):
            ten = sg.Tensors(t)
            q = ten.Quantization()
            if q is not None:
                for i in range(min(q.ScaleLength(), 2)):
                    find_all(struct.pack("<f", q.Scale(i)), "f32", 1)
                for i in range(min(q.ZeroPointLength(), 2)):
                    find_all(struct.pack("<q", q.ZeroPoint(i)), "i64", 1)
            if ten.ShapeLength():
                shp = [int(d) for d in ten.ShapeAsNumpy()]
                pat = struct.pack("<i", len(shp)) + b"".join(struct.pack("<i", d) for d in shp)
                i = data.find(pat)
                if i >= 0:
                    out += [(i + 4 + 4 * d, "dim") for d in range(len(shp))] + [(i, "len")]
        for vec in (sg.InputsAsNumpy(), sg.OutputsAsNumpy()):
            vec = [int(v) for v in np.atleast_1d(vec)]
            pat = struct.pack("<i", len(vec)) + b"".join(struct.pack("<i", v) for v in vec)
            i = data.find(pat)
            if i >= 0:
                out += [(i + 4 + 4 * k, "index") for k in range(len(vec))] + [(i, "len")]
        for o in range(sg.OperatorsLength()):
            op = sg.Operators(o)
            for vec in (op.InputsAsNumpy(), op.OutputsAsNumpy()):
                if isinstance(vec, int):
                    continue
                vec = [int(v) for v in vec]
                pat = struct.pack("<i", len(vec)) + b"".join(struct.pack("<i", v) for v in vec)
                i = data.find(pat)
                if i >= 0:
                    out.append((i + 4 + 4 * random.Random(o).randrange(len(vec)), "index"))
    return out


EDGE = {
    "f32": [struct.pack("<f", v) for v in (float("nan"), float("inf"), -float("inf"), 0.0, -1.0, 1e38, 1e-45)],
    "i64": [struct.pack("<q", v) for v in (2**63 - 1, -2**63, 128, -129, 1 << 40)],
    "dim": [struct.pack("<i", v) for v in (0, -1, 2**31 - 1, 1 << 20, 65536, 3)],
    "len": [struct.pack("<i", v) for v in (0, -1, 2**31 - 1, 1000, 7)],
    "index": [struct.pack("<i", v) for v in (-1, -2, 2**31 - 1, 0, 1, 5, 60)],
}


def mutate_tflite(seed: bytes, fields, rng: random.Random) -> bytes:
    data = bytearray(seed)
    r = rng.random()
    if r < 0.6 and fields:
        for _ in range(rng.randint(1, 3)):
            off, kind = rng.choice(fields)
            val = rng.choice(EDGE[kind])
            data[off:off + len(val)] = val
    elif r < 0.9:
        for _ in range(rng.randint(1, 12)):
            pos = rng.randrange(len(data))
            if rng.random() < 0.5:
                pos = len(data) - 1 - rng.randrange(min(4096, len(data)))
            data[pos] ^= 1 << rng.randrange(8)
    else:
        data = data[:rng.randrange(len(data))]
    return bytes(data)


# --- .onnx ---------------------------------------------------------------------------------

def onnx_seeds() -> list:
    from _models import onnx_float_model
    return [onnx_float_model()]


def mutate_onnx(seed, rng: random.Random) -> bytes:
    import onnx
    from onnx import helper
    m = copy.deepcopy(seed)
    g = m.graph
    for _ in range(rng.randint(1, 3)):
        what = rng.randrange(6)
        if what == 0 and g.node:
            node = rng.choice(g.node)
            if node.attribute:
                a = rng.choice(node.attribute)
                choice = rng.randrange(5)
                new = [helper.make_attribute(a.name, [], attr_type=onnx.AttributeProto.INTS),
                       helper.make_attribute(a.name, 1.5), helper.make_attribute(a.name, "x"),
                       helper.make_attribute(a.name, [2**62] * max(1, len(a.ints))),
                       helper.make_attribute(a.name, [-3] * max(1, len(a.ints)))][choice]
                a.CopyFrom(new)
        elif what == 1:
            vis = list(g.input) + list(g.output)
            if vis:
                dims = rng.choice(vis).type.tensor_type.shape.dim
                if dims:
                    rng.choice(dims).dim_value = rng.choice([0, 2**31, 2**40, 1, 7])
        elif what == 2 and g.initializer:
            init = rng.choice(g.initializer)
            if init.dims:
                k = rng.randrange(len(init.dims))
                init.dims[k] = rng.choice([0, 1, init.dims[k] + 1, 2**31])
        elif what == 3 and g.initializer:
            rng.choice(g.initializer).data_type = rng.choice([1, 2, 3, 6, 7, 10, 11, 16])
        elif what == 4 and g.node:
            node = rng.choice(g.node)
            if node.input:
                node.input[rng.randrange(len(node.input))] = rng.choice(["", "nope", node.output[0] if node.output else "x"])
        elif what == 5 and g.output:
            g.output[0].name = rng.choice(["nope", g.input[0].name if g.input else "x", ""])
    data = bytearray(m.SerializeToString())
    if rng.random() < 0.3 and data:
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


# --- driving -------------------------------------------------------------------------------

def run_in_process(path: Path, timeout: float) -> tuple[str, str]:
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        c = compile_model(path, cores=2)
        g = c.graph
        run_tasks(g, random_inputs(g, 0), c.tasks, execution_order(c.schedule), c.lowered)
        return "ok", ""
    except ArielError as e:
        msg = str(e)
        return ("refused", "") if "\n" not in msg else ("traceback", f"multi-line error: {msg[:200]!r}")
    except Hang:
        return "hang", ""
    except Exception as e:  # noqa: BLE001 - every other exception is what we look for
        tb = traceback.extract_tb(e.__traceback__)[-1]
        return "traceback", f"{type(e).__name__} at {Path(tb.filename).name}:{tb.lineno}: {str(e)[:160]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def run_cli(path: Path, timeout: float) -> tuple[str, str]:
    try:
        p = subprocess.run([sys.executable, "-m", "arielml", "run", str(path), "--board", "host"],
                           capture_output=True, text=True, timeout=timeout * 4)
    except subprocess.TimeoutExpired:
        return "hang", "CLI"
    if p.returncode < 0:
        return "signal", f"CLI died of signal {-p.returncode}"
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    if p.returncode == 0:
        return "ok", ""
    if p.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "):
        return "refused", ""
    return "traceback", f"CLI exit {p.returncode}: {(lines or [''])[-1][:160]}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--format", choices=["tflite", "onnx"], default="tflite")
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cli-every", type=int, default=100, help="also run every K-th case through the CLI (0: never)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per case before it counts as a hang")
    ap.add_argument("--save", type=Path, default=None, help="write failing inputs here")
    args = ap.parse_args()
    if args.cases < 1 or args.timeout <= 0 or args.cli_every < 0:
        sys.exit("error: --cases and --timeout must be positive, --cli-every non-negative")
    signal.signal(signal.SIGALRM, _alarm)
    rng = random.Random(args.seed)
    if args.format == "tflite":
        seeds = [model_path(n).read_bytes() for n in INT8_MODELS]
        fields = [tflite_fields(s) for s in seeds]
    else:
        seeds = onnx_seeds()
    counts = collections.Counter()
    cli_counts = collections.Counter()
    kinds: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.cases):
            k = rng.randrange(len(seeds))
            data = mutate_tflite(seeds[k], fields[k], rng) if args.format == "tflite" else mutate_onnx(seeds[k], rng)
            path = Path(tmp) / f"case{i}.{args.format}"
            path.write_bytes(data)
            outcome, why = run_in_process(path, args.timeout)
            counts[outcome] += 1
            if args.cli_every and i % args.cli_every == 0:
                c_out, c_why = run_cli(path, args.timeout)
                cli_counts[c_out] += 1
                if c_out not in ("ok", "refused"):
                    outcome, why = c_out, c_why
            if outcome not in ("ok", "refused"):
                key = why.split(": ", 1)[0]  # the exception and where it was raised
                if key not in kinds:
                    print(f"case {i}: {outcome}: {why}", flush=True)
                kinds[key] = kinds.get(key, 0) + 1
                if args.save:
                    args.save.mkdir(parents=True, exist_ok=True)
                    (args.save / path.name).write_bytes(data)
            path.unlink()
            if (i + 1) % 500 == 0:
                print(f"[{i + 1}/{args.cases}] {dict(counts)}", file=sys.stderr, flush=True)
    print(f"{args.format}: {args.cases} cases (seed {args.seed}), in-process: " +
          ", ".join(f"{o} {counts[o]}" for o in ("ok", "refused", "traceback", "hang")))
    if args.cli_every:
        print(f"CLI sample ({sum(cli_counts.values())} cases): " +
              ", ".join(f"{o} {cli_counts[o]}" for o in ("ok", "refused", "traceback", "signal", "hang")))
    sys.exit(1 if (set(counts) | set(cli_counts)) - {"ok", "refused"} else 0)


if __name__ == "__main__":
    main()
