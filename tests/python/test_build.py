"""`arielml build`: fit checks before compiling, reproducible crates, manifests."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from _models import MODELS_DIR
from arielml.boards import BOARDS_DIR, get_board
from arielml.build import build_model
from arielml.codegen import write_crate
from arielml.errors import UsageError
from arielml.pipeline import compile_model
from arielml.plan.arena import plan_arena

KWS = MODELS_DIR / "kws_ref_model.tflite"


def _tiny_board(tmp_path, ram: int) -> str:
    text = (BOARDS_DIR / "qemu-an521.toml").read_text()
    text = text.replace('name = "qemu-an521"', 'name = "tiny"').replace("size = 0x0020_0000", f"size = {ram}")
    p = tmp_path / "tiny.toml"
    p.write_text(text)
    return str(p)


def test_model_too_big_for_ram_fails_before_cargo_with_numbers(tmp_path):
    board = get_board(_tiny_board(tmp_path, 64 * 1024))
    out = tmp_path / "out"
    with pytest.raises(UsageError, match=r"kws_ref_model.tflite does not fit tiny's RAM: needs [\d,]+ bytes "
                                         r"\(arena [\d,]+ \+ runtime [\d,]+ \+ stacks [\d,]+\), board has 65,536"):
        build_model(KWS, board, cores=1, out=out)
    assert not (out / "crate").exists()  # refused before generating or compiling anything


def test_too_big_via_cli_is_one_line_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "arielml", "build", str(KWS), "--board",
                           _tiny_board(tmp_path, 32 * 1024), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "does not fit tiny's RAM" in proc.stderr


def test_same_inputs_give_a_byte_identical_crate(tmp_path):
    board = get_board("qemu-riscv32")
    trees = []
    for attempt in range(2):
        c = compile_model(KWS, board=board, cores=4)
        crate = write_crate(c, plan_arena(c), board, tmp_path / "out")
        trees.append({p.relative_to(crate.dir): p.read_bytes() for p in sorted(crate.dir.rglob("*")) if p.is_file()})
        for p in crate.dir.rglob("*"):
            if p.is_file():
                p.unlink()
    assert trees[0] == trees[1] and len(trees[0]) == 5


@pytest.mark.qemu
def test_manifest_describes_the_build(tmp_path):
    board = get_board("qemu-an521")
    b = build_model(KWS, board, cores=2, out=tmp_path)
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert m == b.manifest
    assert m["board"] == "qemu-an521" and m["cores"] == 2
    assert sorted(t for tbl in m["per_core"] for t in tbl) == list(range(len(m["tasks"])))
    assert m["inputs"][0]["shape"] == [1, 49, 10, 1] and m["outputs"][0]["bytes"] == 12
    mem = m["memory"]
    assert 0 < mem["elf_flash_bytes"] <= mem["board_flash_bytes"]
    assert mem["constants_bytes"] > 20_000  # kws weights are in flash
    assert mem["peak_ram_bytes"] == mem["arena_bytes"] + mem["runtime_bytes"]
    # The image is every loaded byte plus alignment gaps between segments.
    assert mem["elf_flash_bytes"] <= (tmp_path / "firmware.bin").stat().st_size <= mem["elf_flash_bytes"] + 64
