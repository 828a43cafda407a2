"""The STM32H745 board (Cortex-M7 + Cortex-M4, one firmware image each): board file, the
two linker scripts, every MLPerf Tiny int8 model built as two images that each fit their
own flash bank and RAM and meet at one shared block, refusals with the numbers, and the
schedule over cores of different clocks.

No emulator runs the STM32H745, so these tests check the built images, not a run.
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from _models import MODELS_DIR
from arielml.boards import REPO_ROOT, get_board, load_board_file
from arielml.build import build_model, check_fit
from arielml.build.cargo import linker_script
from arielml.codegen import write_crate
from arielml.errors import ArielError, UsageError
from arielml.pipeline import SYNC_CYCLES, compile_model, core_speeds
from arielml.plan.arena import plan_arena
from arielml.schedule import retime

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

BOARD = get_board("stm32h745")
SMALL = load_board_file(REPO_ROOT / "tests" / "boards" / "stm32h745-small.toml")
CRATE = REPO_ROOT / "firmware" / "boards" / "stm32h745"
INT8_MODELS = ["kws_ref_model", "vww_96_int8", "ad01_int8", "pretrainedResnet_quant", "str_ww_ref_model"]

# RM0399 memory map (what the board file must say).
FLASH1, FLASH2, BANK = 0x0800_0000, 0x0810_0000, 1024 * 1024
DTCM, DTCM_SIZE = 0x2000_0000, 128 * 1024
AXI, AXI_SIZE = 0x2400_0000, 512 * 1024
D2SRAM, D2SRAM_SIZE = 0x3000_0000, (128 + 128 + 32) * 1024
# Per image: (flash origin, private RAM origin, private RAM size, board-crate feature).
IMAGES = [(FLASH1, DTCM, DTCM_SIZE, "cm7"), (FLASH2, D2SRAM, D2SRAM_SIZE, "cm4")]
# Cortex-M vector table: 16 system entries, then the STM32H745's 150 interrupt lines.
VECTORS = 16 + 150


def test_board_file():
    b = BOARD
    assert [c.arch for c in b.cores] == ["cortex-m7", "cortex-m4"]
    assert b.targets == ("thumbv7em-none-eabihf",)  # FPv4-SP code runs on both FPUs
    assert [c.clock_hz for c in b.cores] == [400_000_000, 200_000_000]
    assert core_speeds(b, 2) == [2.0, 1.0]
    assert not b.emulated and b.multi_image
    assert b.firmware.formats == ("elf", "bin") and b.firmware.crate == "stm32h745"
    assert b.firmware.counter_hz == 200_000_000
    mem = {m.name: (m.origin, m.size, m.cores) for m in b.memories}
    assert mem["flash1"] == (FLASH1, BANK, (0, 1)) and mem["flash2"] == (FLASH2, BANK, (0, 1))
    assert mem["dtcm"] == (DTCM, DTCM_SIZE, (0,))  # tightly coupled to the M7 only
    assert mem["axisram"] == (AXI, AXI_SIZE, (0, 1))
    assert mem["sram123"] == (D2SRAM, D2SRAM_SIZE, (0, 1))
    shared = b.shared_memory()
    assert (shared.name, shared.origin) == ("axisram", AXI)
    for k, (flash, ram, size, feature) in enumerate(IMAGES):
        im = b.images[k]
        assert im.cores == (k,) and im.features == (feature,)
        assert b.named(im.flash).origin == flash and (b.named(im.ram).origin, b.named(im.ram).size) == (ram, size)


def test_board_crate_matches_the_board_file():
    """The clocks and features the board crate is built with are the board file's."""
    cargo = tomllib.loads((CRATE / "Cargo.toml").read_text())
    assert cargo["package"]["name"] == "arielml-board-stm32h745"
    assert cargo["features"] == {"cm7": ["stm32h7/stm32h745cm7", "stm32h7/rt"],
                                 "cm4": ["stm32h7/stm32h745cm4", "stm32h7/rt"]}
    assert {f for im in BOARD.images for f in im.features} == set(cargo["features"])
    workspace = tomllib.loads((REPO_ROOT / "Cargo.toml").read_text())
    assert "firmware/boards/stm32h745" in workspace["workspace"]["members"]
    src = (CRATE / "src" / "lib.rs").read_text()
    sys_hz = int(re.search(r"pub const SYS_HZ: u32 = ([\d_]+);", src).group(1).replace("_", ""))
    assert sys_hz == BOARD.cores[0].clock_hz
    assert "pub const HCLK_HZ: u32 = SYS_HZ / 2;" in src and sys_hz // 2 == BOARD.cores[1].clock_hz
    assert "pub const TIMER_HZ: u32 = 2 * PCLK1_HZ;" in src and "pub const PCLK1_HZ: u32 = HCLK_HZ / 2;" in src
    assert sys_hz // 2 == BOARD.firmware.counter_hz  # TIM2 at 2 x PCLK1 = HCLK
    assert "const NAME: &'static str = arielml_runtime::board_name!();" in src  # the board file's name


@pytest.mark.parametrize("k", [0, 1])
def test_linker_script_of_each_image(k):
    flash, ram, size, _ = IMAGES[k]
    text = linker_script(BOARD, k, shared_bytes=20_000)
    assert f"FLASH : ORIGIN = {flash:#010x}, LENGTH = {BANK:#x}" in text
    assert f"RAM   : ORIGIN = {ram:#010x}, LENGTH = {size:#x}" in text
    assert f"SHARED : ORIGIN = {AXI:#010x}, LENGTH = {20 * 1024:#x}" in text  # rounded up to 1 KiB
    assert "KEEP(*(.arielml_shared .arielml_shared.*));" in text
    assert f"__arielml_image1_vectors = {FLASH2:#010x};" in text


@pytest.mark.parametrize("name", INT8_MODELS)
def test_every_mlperf_int8_model_fits_both_images(name, tmp_path):
    c = compile_model(MODELS_DIR / f"{name}.tflite", board=BOARD, cores=2)
    arena = plan_arena(c)
    crate = write_crate(c, arena, BOARD, tmp_path)
    fit = check_fit(BOARD, c, arena, crate)  # raises UsageError when it does not fit
    for k, (_flash, _ram, size, _) in enumerate(IMAGES):
        assert fit["images"][k]["flash_estimate"] <= BANK
        # its stack, and on the M7 also the runtime state (the shared block is in the AXI SRAM)
        assert BOARD.firmware.stack_bytes <= fit["images"][k]["ram_estimate"] <= size
    assert fit["images"][0]["ram_estimate"] > BOARD.firmware.stack_bytes
    assert crate.shared_bytes <= AXI_SIZE


def _fit_check(name: str, board=SMALL):
    c = compile_model(MODELS_DIR / f"{name}.tflite", board=board, cores=2)
    arena = plan_arena(c)
    return c, lambda out: check_fit(board, c, arena, write_crate(c, arena, board, out))


def _n(text: str) -> int:
    return int(text.replace(",", ""))


def test_constants_too_big_for_a_flash_bank_are_refused_with_numbers(tmp_path):
    c, check = _fit_check("ad01_int8")
    with pytest.raises(UsageError) as e:
        check(tmp_path)
    # The scheduler first moves weight-heavy ops between the images; when both banks are
    # too small for their share, whichever is over is named, with its numbers.
    m = re.fullmatch(r"ad01_int8\.tflite does not fit stm32h745-small's cm[47] flash \(flash[12]\): needs about ([\d,]+) "
                     r"bytes \(constants of its tasks ([\d,]+) \+ code ~([\d,]+)\), it has ([\d,]+)", str(e.value))
    assert m, str(e.value)
    need, consts, code, has = map(_n, m.groups())
    assert need == consts + code > has == 128 * 1024


def test_arena_too_big_for_the_shared_ram_is_refused_with_numbers(tmp_path):
    c, check = _fit_check("pretrainedResnet_quant")
    arena = plan_arena(c).size
    with pytest.raises(UsageError) as e:
        check(tmp_path)
    msg = str(e.value)
    assert msg.startswith("pretrainedResnet_quant.tflite does not fit stm32h745-small's shared RAM (axisram)"), msg
    numbers = [_n(x) for x in re.findall(r"\d[\d,]{3,}", msg)]
    assert "axisram" in msg and 32 * 1024 in numbers, msg
    assert any(n > arena for n in numbers), msg  # what the shared block needs


def test_stack_too_big_for_an_image_ram_is_refused_with_numbers(tmp_path):
    text = (REPO_ROOT / "tests" / "boards" / "stm32h745-small.toml").read_text()
    p = tmp_path / "stm32h745-small.toml"
    p.write_text(text.replace("stack_bytes = 32768", "stack_bytes = 200000"))
    board = load_board_file(p)
    _c, check = _fit_check("kws_ref_model", board)
    with pytest.raises(UsageError, match=r"does not fit stm32h745-small's cm7 RAM \(dtcm\): needs ([\d,]+) bytes "
                                         r"\(stack 200,000 \+ runtime [\d,]+\), it has 131,072"):
        check(tmp_path / "out")


def test_cli_refuses_before_compiling(tmp_path):
    out = tmp_path / "build"
    proc = subprocess.run([sys.executable, "-m", "arielml", "build", str(MODELS_DIR / "ad01_int8.tflite"),
                           "--board", str(REPO_ROOT / "tests" / "boards" / "stm32h745-small.toml"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert re.match(r"error: ad01_int8\.tflite does not fit stm32h745-small's cm[47] flash \(flash[12]\): needs about ", last), last
    assert not (out / "firmware.elf").exists()


def test_models_that_fit_the_small_board_pass_its_fit_check(tmp_path):
    c, check = _fit_check("kws_ref_model")
    fit = check(tmp_path)
    assert all(im["flash_estimate"] <= 128 * 1024 for im in fit["images"])


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    return {name: build_model(MODELS_DIR / f"{name}.tflite", BOARD, out=tmp_path_factory.mktemp(name))
            for name in INT8_MODELS}


def _sections(elf: ELFFile) -> dict:
    return {s.name: s for s in elf.iter_sections() if s["sh_flags"] & 0x2 and s["sh_size"] > 0}


def _symbols(elf: ELFFile) -> dict[str, int]:
    return {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols() if s.name}


def check_image(path: Path, k: int, shared_size: int) -> None:
    """What the core booting image `k` needs from it, and the shared block where the other
    image has it."""
    flash, ram, size, _ = IMAGES[k]
    with open(path, "rb") as f:
        elf = ELFFile(f)
        secs, syms = _sections(elf), _symbols(elf)
        vt = secs[".vector_table"]
        assert vt["sh_addr"] == flash and vt["sh_size"] == 4 * VECTORS  # BOOT_CMx_ADD0 = bank start
        words = struct.unpack(f"<{VECTORS}I", vt.data())
        assert words[0] == ram + size  # initial stack pointer: top of the image's own RAM
        reset = words[1]
        assert reset & 1 and flash < reset & ~1 < flash + BANK and reset & ~1 == syms["Reset"] & ~1
        # SysTick (entry 15) is the board crate's wake-up tick, not the default handler.
        assert words[15] & ~1 != syms["DefaultHandler"] & ~1
        # The image was built for its own core's view of the chip: the other core's SEV line.
        other_sev = "CM4_SEV_IT" if k == 0 else "CM7_SEV_IT"
        assert other_sev in syms and ("CM7_SEV_IT" if k == 0 else "CM4_SEV_IT") not in syms
        assert syms["__arielml_image1_vectors"] == FLASH2
        for name, s in secs.items():
            addr, end = s["sh_addr"], s["sh_addr"] + s["sh_size"]
            if name == ".arielml_shared":
                assert (addr, s["sh_size"], s["sh_type"]) == (AXI, shared_size, "SHT_NOBITS")
            elif s["sh_flags"] & 0x1:  # SHF_WRITE: the image's private RAM
                assert ram <= addr and end <= ram + size, name
            else:
                assert flash <= addr and end <= flash + BANK, name
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_filesz"]:
                assert flash <= seg["p_paddr"] and seg["p_paddr"] + seg["p_filesz"] <= flash + BANK


@pytest.mark.slow
@pytest.mark.parametrize("name", INT8_MODELS)
def test_model_builds_as_two_images_inside_their_memories(builds, name):
    b = builds[name]
    m = b.manifest
    assert m["board"] == "stm32h745" and m["cores"] == 2
    ims = m["images"]
    assert [im["elf"] for im in ims] == ["firmware.elf", "firmware-image1.elf"]
    assert [im["bin"] for im in ims] == ["firmware.bin", "firmware-image1.bin"]
    with open(b.elf, "rb") as f:
        shared_size = _sections(ELFFile(f))[".arielml_shared"]["sh_size"]
    assert shared_size >= b.arena.size
    for k, (im, (_flash, _ram, size, _)) in enumerate(zip(ims, IMAGES)):
        assert im["cores"] == [k]
        assert im["flash_memory"] == ("flash1", "flash2")[k]
        assert im["ram_memories"] == [("dtcm", "sram123")[k], "axisram"]
        assert 0 < im["elf_flash_bytes"] <= im["board_flash_bytes"] == BANK
        # its RAM: its own, and (of the shared AXI SRAM) at least the shared block
        assert shared_size <= im["elf_ram_bytes"] and size + shared_size <= im["board_ram_bytes"] <= size + AXI_SIZE
        # the image's private RAM holds its .data/.bss and the reserved stack
        assert im["elf_ram_bytes"] - shared_size + BOARD.firmware.stack_bytes <= size
        assert im["constants_bytes"] > 0
        check_image(b.out / im["elf"], k, shared_size)
        check_bin(b.out / im["bin"], b.out / im["elf"], k, im["elf_flash_bytes"])


def check_bin(path: Path, elf_path: Path, k: int, flash_bytes: int) -> None:
    """The .bin a probe writes at image k's flash origin: every loaded byte of the ELF in
    place (gaps between segments only for alignment), starting with the vector table."""
    flash, ram, size, _ = IMAGES[k]
    image = path.read_bytes()
    assert flash_bytes <= len(image) < flash_bytes + 64
    sp, reset = struct.unpack_from("<II", image)
    assert sp == ram + size and flash < reset < flash + len(image)
    with open(elf_path, "rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_filesz"]:
                off = seg["p_paddr"] - flash
                assert image[off:off + seg["p_filesz"]] == seg.data()[:seg["p_filesz"]]


@pytest.mark.slow
@pytest.mark.parametrize("name", INT8_MODELS)
def test_the_m7_gets_the_larger_share_and_beats_an_equal_split(builds, name):
    """The manifest's per-core tables give the M7 (twice the clock) about two thirds of the
    estimated cycles, and the schedule finishes well before splitting the work equally."""
    b = builds[name]
    m = b.manifest
    cycles = {t["id"]: t["estimated_cycles"] for t in m["tasks"]}
    assert sorted(t for table in m["per_core"] for t in table) == sorted(cycles)
    assert all(t["core"] == k for k, table in enumerate(m["per_core"]) for t in m["tasks"] if t["id"] in table)
    work = [sum(cycles[t] for t in table) for table in m["per_core"]]
    assert work[0] > work[1]
    assert 0.6 <= work[0] / sum(work) <= 0.73
    # In time: each core's work at its clock; both finish within 20% of each other.
    seconds = [w / core.clock_hz for w, core in zip(work, BOARD.cores)]
    assert max(seconds) <= 1.2 * min(seconds)
    # Makespans in cycles of the M4 (speed 1; the M7 has speed 2). Splitting the work
    # equally leaves the M4 half of it: no equal split finishes before sum / 2.
    c = b.compiled
    speeds = core_speeds(BOARD, 2)
    assert speeds == [2.0, 1.0]
    assert c.schedule.makespan < 0.75 * (sum(c.costs) / 2)
    # and near what perfect balancing over both cores (3 speed units) allows
    assert c.schedule.makespan <= 1.06 * sum(c.costs) / sum(speeds)
    # The same tables executed as planned, at the cores' true speeds, keep that makespan.
    again = retime(c.schedule, c.costs, speeds, SYNC_CYCLES)
    assert again.makespan <= 1.001 * c.schedule.makespan
