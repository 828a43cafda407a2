"""The memory figures against the firmware itself, and the in-place / alias paths run on
QEMU: the arena plus `runtime_bytes` is exactly the static RAM a riscv32 build reserves
(the figure benchmarks/memory.py reports), and models whose plans run ops in place are
bit-exact with TFLM on 1, 2 and 4 harts."""

from __future__ import annotations

import pytest

from _models import MODELS_DIR
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
