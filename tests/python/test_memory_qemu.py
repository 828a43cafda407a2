"""The memory figures against the firmware itself, and the in-place / alias paths run on
QEMU: the arena plus `runtime_bytes` is exactly the static RAM a riscv32 build reserves
(the figure benchmarks/memory.py reports), and models whose plans run ops in place are
bit-exact with TFLM on 1, 2 and 4 harts."""

from __future__ import annotations

import pytest

from _models import MODELS_DIR, residual_model
from arielml.boards import get_board
from arielml.build import build_model
from arielml.build.elf import memory_use
from arielml.oracle.check import check_tflite
from arielml.oracle.reference import TflmReference
from arielml.oracle.tensors_io import random_inputs
from arielml.target.device import qemu_device

pytestmark = pytest.mark.qemu


@pytest.mark.parametrize("cores", [1, 4])
def test_runtime_estimate_is_the_static_ram_of_the_build(tmp_path, cores):
    board = get_board("qemu-riscv32")
    build = build_model(MODELS_DIR / "ad01_int8.tflite", board, cores=cores, out=tmp_path / "fw")
    mem = build.manifest["memory"]
    use = memory_use(build.elf, board)
    # .bss holds the Shared block (executor words + arena), the scratch and the board's
    # statics; .data is empty on this board.
    assert use.sections.get(".data", 0) == 0
    assert use.sections[".bss"] == mem["arena_bytes"] + mem["runtime_bytes"]


@pytest.mark.parametrize("cores", [1, 2, 4])
def test_band_fused_residuals_bit_exact_on_riscv(tmp_path, cores):
    path = residual_model(tmp_path / "residual.tflite")
    build = build_model(path, get_board("qemu-riscv32"), cores=cores, out=tmp_path / "fw")
    taken = [n for n in build.manifest["memory"]["fusions"] if "not taken" not in n]
    assert taken, build.manifest["memory"]["fusions"]
    _bit_exact(build, path, 6)


@pytest.mark.parametrize("cores", [1, 2, 4])
@pytest.mark.parametrize("model,fused,in_place", [
    ("pretrainedResnet_quant", True, {"ADD", "RESHAPE"}),  # block 1 fused, the other ADDs in place
    ("kws_ref_model", False, {"RESHAPE"}),  # its RESHAPE is an alias: no copy at all
])
def test_in_place_and_fused_mlperf_models_bit_exact_on_riscv(tmp_path, cores, model, fused, in_place):
    path = MODELS_DIR / f"{model}.tflite"
    build = build_model(path, get_board("qemu-riscv32"), cores=cores, out=tmp_path / "fw")
    assert any("not taken" not in n for n in build.manifest["memory"]["fusions"]) == fused
    text = (build.out / "crate" / "src" / "model.rs").read_text()
    assert ("binary_s8_in_place" in text) == ("ADD" in in_place or fused)
    assert ("in place: the output is the input's bytes" in text) == ("RESHAPE" in in_place)
    _bit_exact(build, path, 4)


def _bit_exact(build, path, runs):
    g, ref = build.compiled.graph, TflmReference(path)
    with qemu_device(build, get_board("qemu-riscv32")) as dev:
        for seed in range(runs):
            inputs = random_inputs(g, seed)
            report = check_tflite(g, path, inputs, dev.infer(inputs).outputs, ref)
            assert report.ok, f"input {seed}: {report.summary()}"
