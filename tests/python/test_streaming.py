"""Stateful streaming models: resource variables initialised by CALL_ONCE (models/streaming_models.py).

Every invocation of a sequence is compared with ONE TFLM interpreter invoked as many times;
the host runs every tiling (quick tier), the firmware runs on qemu-an521 (1 and 2 cores) and
qemu-riscv32 (4 harts) with the state in its persistent region (qemu tier)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "models"))

import streaming_models as sm  # noqa: E402
from tflite_test_models import Builder  # noqa: E402

from arielml import api  # noqa: E402
from arielml.boards import get_board  # noqa: E402
from arielml.build import build_model  # noqa: E402
from arielml.errors import UsageError  # noqa: E402
from arielml.ir import OpKind  # noqa: E402
from arielml.oracle.reference import TflmReference  # noqa: E402
from arielml.oracle.tensors_io import random_inputs  # noqa: E402
from arielml.plan.arena import plan_arena  # noqa: E402
from arielml.plan.state import plan_state  # noqa: E402

from _cli import cli, one_error_line  # noqa: E402

FRAMES = 20


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("streaming")
    return {p.stem: p for p in sm.write_all(out)}


def _frames(path: Path, n: int = FRAMES) -> list[dict]:
    g = api.load(path)
    return [random_inputs(g, seed) for seed in range(n)]


def _seq_file(path: Path, tmp: Path) -> Path:
    g = api.load(path)
    np.savez(tmp / "seq.npz", np.stack([f[g.inputs[0]] for f in _frames(path)]))
    return tmp / "seq.npz"


@pytest.mark.parametrize("name", ["streaming", "accumulator"])
def test_twenty_invocations_bit_exact_with_one_tflm_interpreter(models, name):
    frames = _frames(models[name])
    for cores in (1, 2, 3):
        ran = api.run(models[name], "host", cores=cores, inputs=frames)
        verdict = api.check(ran)
        assert verdict.ok, verdict.summary()
        assert len(verdict.reports) == FRAMES
        assert all(r.int_tensors >= 2 for r in verdict.reports)


def test_import_makes_variables_ir_state(models):
    g = api.load(models["streaming"])
    kinds = [op.kind for op in g.ops]
    assert kinds.count(OpKind.READ_VARIABLE) == 1 and kinds.count(OpKind.ASSIGN_VARIABLE) == 1
    (ring,) = g.variables()
    assert ring.shape == (1, 2, 8, 4) and ring.init.any()  # CALL_ONCE's constant, evaluated
    c = api.compile(models["streaming"], cores=2)
    assert ring.name not in plan_arena(c).offsets  # never in the reusable arena
    state = plan_state(c.graph)
    assert state.size == ring.type.nbytes and state.init == ring.init.tobytes()
    # The ASSIGN waits for the READ of the same variable (write after read).
    read = next(t.id for t in c.tasks if c.graph.ops[t.tile.op].kind is OpKind.READ_VARIABLE)
    assign = next(t for t in c.tasks if c.graph.ops[t.tile.op].kind is OpKind.ASSIGN_VARIABLE)
    assert read in assign.deps


def test_state_changes_the_next_output(models):
    path = models["streaming"]
    frame = _frames(path, 1)[0]
    ran = api.run(path, "host", inputs=[frame, frame, frame])
    out = ran.outputs[api.load(path).outputs[0]]
    assert out.dtype == np.uint8 and out.shape[0] == 3
    assert not np.array_equal(out[0], out[1]) and not np.array_equal(out[1], out[2])
    assert api.check(ran).ok


def test_initial_values_as_tflm_sets_them(models):
    path = models["accumulator"]
    g = api.load(path)
    x = {g.inputs[0]: np.full((1, 4), 3, np.int8)}  # real 0: the sums stay the initial values
    ran = api.run(path, "host", inputs=[x, x])
    acc, count, total = (ran.outputs[n] for n in g.outputs)
    assert acc[0].tolist() == [[-10, -3, 4, 11]]  # CALL_ONCE's init
    assert count[0].tolist() == [[-5] * 4]  # no init: TFLM fills with the zero point
    assert total.dtype == np.float32 and not total.any()  # no init, float: zero bytes
    ref = TflmReference(path)
    ref.run([x[g.inputs[0]]])
    assert ref.outputs(3)[1].tolist() == [[-5] * 4]
    y = {g.inputs[0]: np.full((1, 4), 13, np.int8)}  # real 1.0 per invocation
    ran = api.run(path, "host", inputs=[y, y, y])
    assert ran.outputs[g.outputs[2]][:, 0, 0].tolist() == pytest.approx([1.0, 2.0, 3.0])
    assert api.check(ran).ok


def test_cli_sequence_check(models, tmp_path, capsys):
    path = models["streaming"]
    code, out, err = cli(capsys, "run", path, "--inputs", _seq_file(path, tmp_path), "--cores", "2", "--check")
    assert code == 0, err
    assert f"all {FRAMES} invocations match" in out


def _init_model(path: Path, init_op: str) -> Path:
    """v starts as `init_op` of a constant (RELU: computed at build time; FLOOR: no kernel)."""
    b = Builder()
    q = (0.1, 0)
    x = b.act([1, 4], "int8", q)
    init = b.subgraph()
    h0 = sm._var(b, "v", sg=init)
    c = sm._init_const(b, np.array([[-20, -3, 5, 40]], np.int8), q)
    c2 = sm._init_const(b, np.array([[7, -8]], np.int8), q)
    y = b.op(init_op, [c], [b.act([1, 4], "int8", q)], sg=init)
    y2 = b.op("RESHAPE", [y, b.i32([2, 2])], [b.act([2, 2], "int8", q)], "ReshapeOptions", sg=init, newShape=[2, 2])
    both = b.op("CONCATENATION", [y2, b.op("RESHAPE", [c2, b.i32([1, 2])], [b.act([1, 2], "int8", q)],
                                           "ReshapeOptions", sg=init, newShape=[1, 2])],
                [b.act([3, 2], "int8", q)], "ConcatenationOptions", sg=init, axis=0, fusedActivationFunction=0)
    b.op("ASSIGN_VARIABLE", [h0, both], [], sg=init)
    b.op("CALL_ONCE", [], [], "CallOnceOptions", initSubgraphIndex=1)
    h = sm._var(b, "v")
    prev = b.op("READ_VARIABLE", [h], [b.act([3, 2], "int8", q)])
    flat = b.op("RESHAPE", [prev, b.i32([1, 6])], [b.act([1, 6], "int8", q)], "ReshapeOptions", newShape=[1, 6])
    s = b.op("CONCATENATION", [flat, x], [b.act([1, 10], "int8", q)], "ConcatenationOptions", axis=1,
             fusedActivationFunction=0)
    nxt = b.op("STRIDED_SLICE", [s, b.i32([0, 4]), b.i32([1, 10]), b.i32([1, 1])], [b.act([1, 6], "int8", q)],
               "StridedSliceOptions", beginMask=0, endMask=0, ellipsisMask=0, newAxisMask=0, shrinkAxisMask=0,
               offset=False)
    back = b.op("RESHAPE", [nxt, b.i32([3, 2])], [b.act([3, 2], "int8", q)], "ReshapeOptions", newShape=[3, 2])
    b.op("ASSIGN_VARIABLE", [h, back], [])
    path.write_bytes(b.build([x], [s]))
    return path


def test_init_computed_from_constants_at_build_time(tmp_path):
    path = _init_model(tmp_path / "init_relu.tflite", "RELU")
    g = api.load(path)
    (v,) = g.variables()
    assert g.init_graph is None
    assert v.init.reshape(-1).tolist() == [0, 0, 5, 40, 7, -8]  # RELU ran, then the copies
    frames = _frames(path, 5)
    for cores in (1, 2):
        verdict = api.check(api.run(path, "host", cores=cores, inputs=frames))
        assert verdict.ok, verdict.summary()


def test_init_op_without_kernel_is_listed_with_unsupported_ops(tmp_path, capsys):
    path = _init_model(tmp_path / "init_floor.tflite", "FLOOR")
    with pytest.raises(UsageError, match="unsupported ops: FLOOR in CALL_ONCE init subgraph 1 x1"):
        api.load(path)
    code, _, err = cli(capsys, "inspect", path)
    assert code != 0 and "FLOOR in CALL_ONCE init subgraph 1 x1" in one_error_line(err)


def test_read_after_assign_and_unassigned_read_are_refused(tmp_path):
    q = (0.1, 0)
    b = Builder()
    x = b.act([1, 4], "int8", q)
    h = sm._var(b, "v")
    b.op("ASSIGN_VARIABLE", [h, x], [])
    y = b.op("READ_VARIABLE", [h], [b.act([1, 4], "int8", q)])
    path = tmp_path / "late_read.tflite"
    path.write_bytes(b.build([x], [y]))
    with pytest.raises(UsageError, match="after its ASSIGN_VARIABLE"):
        api.load(path)
    b = Builder()
    x = b.act([1, 4], "int8", q)
    y = b.op("READ_VARIABLE", [sm._var(b, "never")], [b.act([1, 4], "int8", q)])
    s = b.op("ADD", [y, x], [b.act([1, 4], "int8", q)], "AddOptions", fusedActivationFunction=0)
    path = tmp_path / "unassigned.tflite"
    path.write_bytes(b.build([x], [s]))
    with pytest.raises(UsageError, match="which nothing assigns"):
        api.load(path)


def test_stateful_model_on_a_multi_image_board_is_refused(models):
    from arielml.boards import load_board_file
    from arielml.codegen.crate import generate_crate

    board = load_board_file(Path(__file__).resolve().parents[1] / "boards" / "qemu-an521-images.toml")
    c = api.compile(models["accumulator"], cores=2)
    with pytest.raises(UsageError, match="multi-image board is not supported"):
        generate_crate(c, plan_arena(c), board, Path("/nonexistent"))


@pytest.mark.qemu
@pytest.mark.parametrize("board,cores", [("qemu-an521", 1), ("qemu-an521", 2), ("qemu-riscv32", 4)])
def test_twenty_invocations_in_firmware(models, tmp_path, board, cores):
    path = models["streaming"]
    ran = api.run(path, board, cores=cores, inputs=_seq_file(path, tmp_path))
    verdict = api.check(ran)
    assert verdict.ok, verdict.summary()
    assert len(verdict.reports) == FRAMES and ran.sequence
    # The build (cached by the run) reports the persistent region and counts it in its RAM.
    built = build_model(path, get_board(board), cores=cores)
    memory = built.manifest["memory"]
    assert memory["state_bytes"] == plan_state(built.compiled.graph).size > 0
    assert memory["peak_ram_bytes"] == memory["arena_bytes"] + memory["state_bytes"] + memory["runtime_bytes"]


@pytest.mark.qemu
def test_accumulator_in_firmware_two_cores(models, tmp_path):
    path = models["accumulator"]
    ran = api.run(path, "qemu-an521", cores=2, inputs=_frames(path))
    verdict = api.check(ran)
    assert verdict.ok, verdict.summary()


def test_inspect_reports_the_state(models, capsys):
    code, out, err = cli(capsys, "inspect", models["streaming"])
    assert code == 0, err
    assert "READ_VARIABLE" in out and "ASSIGN_VARIABLE" in out
    assert "variables (state kept across invocations): 64 bytes" in out


@pytest.mark.parametrize("seed,freq,chans,history", [(1, 6, 3, 1), (2, 8, 2, 3), (3, 10, 5, 4)])
def test_ring_buffers_of_other_shapes(tmp_path, seed, freq, chans, history):
    path = tmp_path / "s.tflite"
    path.write_bytes(sm.streaming_model(seed, freq, chans, history))
    frames = _frames(path, 8)
    for cores in (1, 2, 4):
        verdict = api.check(api.run(path, "host", cores=cores, inputs=frames))
        assert verdict.ok, verdict.summary()


def _graph_with(ops_of):
    """A tiny graph over one int8 variable `v`; `ops_of(Op)` gives its ops."""
    from arielml.ir import DType, Graph, Op, Quant, Tensor, TensorType, verify

    ty = TensorType((1, 4), DType.INT8, Quant.per_tensor(0.1, 0))
    ts = {n: Tensor(n, ty) for n in ("x", "r", "y")}
    ts["v"] = Tensor("v", ty, init=np.zeros((1, 4), np.int8))
    return verify, Graph(ts, ops_of(Op), ["x"], ["y"])


def test_verify_rules_for_variables():
    from arielml.ir import OpKind as K, VerifyError

    verify, ok = _graph_with(lambda Op: [Op(K.READ_VARIABLE, ("v",), ("r",)), Op(K.ADD, ("r", "x"), ("y",)),
                                         Op(K.ASSIGN_VARIABLE, ("y",), ("v",))])
    verify(ok)
    cases = {
        "only READ_VARIABLE may": lambda Op: [Op(K.ADD, ("v", "x"), ("y",))],
        "only ASSIGN_VARIABLE may": lambda Op: [Op(K.RELU, ("x",), ("v",)), Op(K.RELU, ("x",), ("y",))],
        "assigned twice": lambda Op: [Op(K.ASSIGN_VARIABLE, ("x",), ("v",)), Op(K.ASSIGN_VARIABLE, ("x",), ("v",)),
                                      Op(K.RELU, ("x",), ("y",))],
        "after its ASSIGN_VARIABLE": lambda Op: [Op(K.ASSIGN_VARIABLE, ("x",), ("v",)),
                                                 Op(K.READ_VARIABLE, ("v",), ("y",))],
        "which is not a variable": lambda Op: [Op(K.READ_VARIABLE, ("x",), ("y",))],
    }
    for message, ops in cases.items():
        with pytest.raises(VerifyError, match=message):
            verify(_graph_with(ops)[1])
