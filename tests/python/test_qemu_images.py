"""One firmware image per core, end to end under QEMU (the nRF5340 / STM32H745 layout).

tests/boards/qemu-an521-images.toml gives each AN521 core its own code and private RAM;
the images share only the `.arielml_shared` block. The five int8 models must be
bit-exact with TFLM across repeated inferences, each image must contain only its own
cores' task code and live only in its own memories, and the board schema must refuse
image layouts the runtime cannot honour.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from elftools.elf.elffile import ELFFile

from _models import MODELS_DIR
from arielml.boards import REPO_ROOT, get_board, load_board_file
from arielml.build import build_model
from arielml.errors import UsageError
from arielml.oracle.check import check_tflite
from arielml.oracle.reference import TflmReference
from arielml.oracle.tensors_io import random_inputs
from arielml.target.device import qemu_device

BOARD = REPO_ROOT / "tests" / "boards" / "qemu-an521-images.toml"
MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8", "str_ww_ref_model"]


@pytest.fixture(scope="module")
def board():
    return get_board(str(BOARD))


@pytest.fixture(scope="module")
def builds(tmp_path_factory, board):
    cache = {}

    def get(model: str, cores: int = 2):
        if (model, cores) not in cache:
            out = tmp_path_factory.mktemp(f"{model}-images-{cores}")
            cache[model, cores] = build_model(MODELS_DIR / f"{model}.tflite", board, cores=cores, out=out)
        return cache[model, cores]

    return get


def _sections(path: Path) -> dict[str, tuple[int, int]]:
    with open(path, "rb") as f:
        elf = ELFFile(f)
        return {s.name: (s["sh_addr"], s["sh_size"]) for s in elf.iter_sections() if s["sh_flags"] & 0x2}


@pytest.mark.qemu
@pytest.mark.parametrize("model", MODELS)
def test_two_images_bit_exact_with_tflm(model, board, builds):
    build = builds(model)
    path = MODELS_DIR / f"{model}.tflite"
    ref = TflmReference(path)
    g = build.compiled.graph
    assert [im["cores"] for im in build.manifest["images"]] == [[0], [1]]
    assert {t["core"] for t in build.manifest["tasks"]} == {0, 1}
    with qemu_device(build, board) as dev:
        assert dev.hello.cores == 2
        first = None
        for i in range(4):
            inputs = random_inputs(g, i % 2)
            result = dev.infer(inputs)
            report = check_tflite(g, path, inputs, result.outputs, ref)
            assert report.ok and report.exact, f"run {i}: {report.summary()}"
            if i % 2 == 0:
                first = first or result.outputs
                for name in g.outputs:
                    assert np.array_equal(first[name], result.outputs[name])
            assert all(t > 0 for t in result.task_ticks), "every task (both images) reports its ticks"


class _Seg:
    def __init__(self, paddr: int, filesz: int):
        self.p_end = paddr + filesz


def _flash_segments(path: Path, flash) -> list[_Seg]:
    with open(path, "rb") as f:
        return [_Seg(s["p_paddr"], s["p_filesz"]) for s in ELFFile(f).iter_segments()
                if s["p_type"] == "PT_LOAD" and s["p_filesz"] and flash.origin <= s["p_paddr"] < flash.origin + flash.size]


@pytest.mark.slow
def test_each_image_lives_in_its_own_memories(board, builds):
    build = builds("kws_ref_model")
    shared = board.shared_memory()
    for k, im in enumerate(build.manifest["images"]):
        flash, ram = board.named(board.images[k].flash), board.named(board.images[k].ram)
        secs = _sections(build.out / im["elf"])
        assert secs[".vector_table"][0] == flash.origin
        assert secs[".arielml_shared"][0] == shared.origin, "shared block at one address in every image"
        for name, (addr, size) in secs.items():
            assert any(m.origin <= addr and addr + size <= m.origin + m.size for m in (flash, ram, shared)), \
                (k, name, hex(addr))
        for name in (".text", ".rodata"):
            assert flash.origin <= secs[name][0] < flash.origin + flash.size
        assert im["elf_flash_bytes"] <= im["board_flash_bytes"]
        # the .bin spans the loaded bytes from the flash origin; alignment gaps between
        # segments are padded (0xFF), so it is at least the loaded bytes and ends at the last one
        ends = [s.p_end for s in _flash_segments(build.out / im["elf"], flash)]
        assert (build.out / im["bin"]).stat().st_size == max(ends) - flash.origin >= im["elf_flash_bytes"]


@pytest.mark.slow
def test_an_image_holds_only_its_own_cores_tasks(builds):
    build = builds("kws_ref_model")
    per_core = build.manifest["per_core"]
    for k in range(2):
        model_rs = (build.out / "crate" / "src" / f"model{k}.rs").read_text()
        for c, table in enumerate(per_core):
            for t in table:
                assert (f"fn t{t}()" in model_rs) == (c == k), f"image {k}, task {t} of core {c}"
        assert model_rs.count("executor::elsewhere") == len(per_core[1 - k])


@pytest.mark.slow
def test_one_core_build_leaves_image_one_idle(board, builds):
    build = builds("ad01_int8", cores=1)
    assert build.manifest["cores"] == 1
    assert len(build.manifest["images"]) == 2
    g = build.compiled.graph
    inputs = random_inputs(g, 0)
    with qemu_device(build, board) as dev:
        result = dev.infer(inputs)
    report = check_tflite(g, MODELS_DIR / "ad01_int8.tflite", inputs, result.outputs)
    assert report.ok and report.exact, report.summary()


def _write_board(tmp_path, text: str) -> Path:
    path = tmp_path / "qemu-an521-images.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("edit,message", [
    (lambda t: t.replace('shared_ram = "shared"\n', ""), "needs 'firmware.shared_ram'"),
    (lambda t: t.replace('shared_ram = "shared"', 'shared_ram = "ram1"'), "a ram every core reaches"),
    (lambda t: t.replace('flash = "code1"', 'flash = "code0"'), "'images[1].flash' must be a flash memory core 1 reaches"),
    (lambda t: t.replace('[[images]]\ncores = [1]', '[[images]]\ncores = [0, 1]'), "exactly one core"),
    (lambda t: t.replace('[[images]]\ncores = [1]', '[[images]]\ncores = [0]'), "cores 0..1 in order"),
    (lambda t: t.replace('ram = "ram1"', 'ram = "nowhere"'), "no memory named 'nowhere'"),
])
def test_board_schema_refuses_bad_image_layouts(tmp_path, edit, message):
    text = BOARD.read_text()
    changed = edit(text)
    assert changed != text
    with pytest.raises(UsageError, match=re.escape(message)):
        load_board_file(_write_board(tmp_path, changed))


def test_too_big_for_an_image_is_refused_with_numbers(tmp_path):
    # 128 KiB per image: vww's 240 KB of weights fit neither image's share.
    small = BOARD.read_text().replace("size = 0x0020_0000", "size = 0x0002_0000")
    board = load_board_file(_write_board(tmp_path, small))
    with pytest.raises(UsageError, match=r"does not fit qemu-an521-images's cpu[01] flash \(code[01]\): "
                                         r"needs about [\d,]+ bytes .* it has 131,072"):
        build_model(MODELS_DIR / "vww_96_int8.tflite", board, out=tmp_path / "vww")


def test_weight_heavy_ops_move_to_the_image_with_room(tmp_path):
    # Image 1 with 160 KiB of flash: the scheduler keeps vww's heavy ops on core 0, and the
    # build fits, bit-exactness being the same machinery as above.
    text = BOARD.read_text().replace('name = "code1"\nkind = "flash"\norigin = 0x1020_0000\nsize = 0x0020_0000',
                                     'name = "code1"\nkind = "flash"\norigin = 0x1020_0000\nsize = 0x0002_8000')
    assert text != BOARD.read_text()
    board = load_board_file(_write_board(tmp_path, text))
    from arielml.pipeline import CODE_ESTIMATE, compile_model
    from arielml.plan.arena import plan_arena
    from arielml.codegen import write_crate

    c = compile_model(MODELS_DIR / "vww_96_int8.tflite", board=board, cores=2)
    crate = write_crate(c, plan_arena(c), board, tmp_path / "vww")
    assert crate.image_consts[1] + CODE_ESTIMATE <= 0x2_8000 < crate.image_consts[0] + CODE_ESTIMATE
    assert c.schedule.cores[1]
