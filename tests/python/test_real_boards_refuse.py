"""Every real board refuses a model too big for it at build time: exit 2, one line with the
numbers, nothing generated or compiled. (All MLPerf Tiny int8 models fit every board, so
the too-big model is synthetic: one int8 max pool whose input and output fill the RAM.)"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from arielml.boards import REPO_ROOT, get_board


def big_arena_model(path: Path, side: int) -> Path:
    """A 1x1 int8 max pool over side x side x 10: an arena of 2 * side * side * 10 bytes."""
    sys.path.insert(0, str(REPO_ROOT / "models"))
    from tflite_test_models import Builder

    b = Builder()
    x = b.act([1, side, side, 10], "int8", (0.05, 0))
    y = b.op("MAX_POOL_2D", [x], [b.act([1, side, side, 10], "int8", (0.05, 0))], "Pool2DOptions",
             padding=1, strideH=1, strideW=1, filterHeight=1, filterWidth=1)
    path.write_bytes(b.build([x], [y]))
    return path


# board -> the memory named in the refusal
CASES = {
    "rp2040": r"RAM: needs ([\d,]+) bytes \(arena [\d,]+ \+ runtime [\d,]+ \+ stacks [\d,]+\), board has ([\d,]+)",
    "rp2350-riscv": r"RAM: needs ([\d,]+) bytes \(arena [\d,]+ \+ runtime [\d,]+ \+ stacks [\d,]+\), board has ([\d,]+)",
    "rp2350": r"RAM: needs ([\d,]+) bytes \(arena [\d,]+ \+ runtime [\d,]+ \+ stacks [\d,]+\), board has ([\d,]+)",
    "nrf5340": r"shared RAM \(app_sram\): needs ([\d,]+) bytes \(arena \+ executor words\), it has ([\d,]+)",
    "stm32h745": r"shared RAM \(axisram\): needs ([\d,]+) bytes \(arena \+ executor words\), it has ([\d,]+)",
}


@pytest.mark.parametrize("board", sorted(CASES))
def test_model_too_big_for_the_board_is_refused_before_compiling(tmp_path, board):
    ram = max(m.size for m in get_board(board).memories if m.kind == "ram")
    side = int((ram / 20) ** 0.5) + 20  # arena over the board's largest RAM
    model = big_arena_model(tmp_path / "big.tflite", side)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "arielml", "build", str(model), "--board", board, "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert "Traceback" not in proc.stderr and lines, proc.stderr
    m = re.fullmatch(rf"error: big\.tflite does not fit {board}'s " + CASES[board], lines[-1])
    assert m, lines[-1]
    need, have = (int(g.replace(",", "")) for g in m.groups())
    assert need > have
    assert not (out / "firmware.elf").exists()
