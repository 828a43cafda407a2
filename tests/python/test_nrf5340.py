"""The nRF5340 board: two images (application core, network core), each in its own flash
and RAM, meeting only in the shared block at the start of the application SRAM.

No emulator runs the nRF5340, so these tests check what the chip needs from the images:
every MLPerf Tiny int8 model that fits builds into two ELFs (and .bin files) whose
sections lie in that core's memories, with the vector table where that core boots, the
stack at the top of that core's RAM, the shared block at one address in both, and the
right float ABI per core; the models that do not fit the network core's 256 KiB flash are
refused at build time, before cargo, with the numbers.
"""

from __future__ import annotations

import dataclasses
import re
import struct

import pytest
from elftools.elf.elffile import ELFFile

from _models import INT8_MODELS as INT8_FILES
from _models import MODELS_DIR
from arielml.boards import REPO_ROOT, get_board, load_board_file
from arielml.build import CODE_ESTIMATE, build_model, check_fit
from arielml.build.cargo import linker_script, shared_region
from arielml.codegen import write_crate
from arielml.errors import UsageError
from arielml.pipeline import SYNC_CYCLES, compile_model, core_speeds
from arielml.plan.arena import plan_arena
from arielml.schedule import list_schedule

BOARD = get_board("nrf5340")
# nRF5340 Product Specification, memory maps of the two cores.
APP_FLASH, APP_FLASH_SIZE = 0x0000_0000, 1024 * 1024
NET_FLASH, NET_FLASH_SIZE = 0x0100_0000, 256 * 1024
APP_RAM, APP_RAM_SIZE = 0x2000_0000, 512 * 1024
NET_RAM, NET_RAM_SIZE = 0x2100_0000, 64 * 1024
STACK = BOARD.firmware.stack_bytes
# Every MLPerf Tiny int8 model fits. For two of them (vww: conv weights; ad01: fully
# connected layers split by output channel) a plain schedule would give the network core
# tiles of nearly every op, so its image would need nearly all the weights, over its
# 256 KiB of flash: the scheduler keeps their heaviest ops on the application core.
FITS = ["kws_ref_model", "pretrainedResnet_quant", "str_ww_ref_model", "vww_96_int8", "ad01_int8"]
OVER_NET_FLASH_UNLESS_PLACED = ["vww_96_int8", "ad01_int8"]
EF_ARM_ABI_FLOAT_SOFT, EF_ARM_ABI_FLOAT_HARD = 0x200, 0x400
SHF_ALLOC = 0x2


def test_every_mlperf_int8_model_fits():
    assert sorted(FITS) == sorted(f.removesuffix(".tflite") for f in INT8_FILES)


def test_board_file():
    b = BOARD
    assert [c.name for c in b.cores] == ["app", "net"]
    assert [c.arch for c in b.cores] == ["cortex-m33"] * 2
    # the application core has the FPU, the network core has none
    assert [c.target for c in b.cores] == ["thumbv8m.main-none-eabihf", "thumbv8m.main-none-eabi"]
    assert [c.clock_hz for c in b.cores] == [128_000_000, 64_000_000]
    mems = {m.name: (m.kind, m.origin, m.size, m.cores) for m in b.memories}
    assert mems == {
        "app_flash": ("flash", APP_FLASH, APP_FLASH_SIZE, (0,)),
        "net_flash": ("flash", NET_FLASH, NET_FLASH_SIZE, (1,)),
        "app_sram": ("ram", APP_RAM, APP_RAM_SIZE, (0, 1)),  # the network core reaches it too
        "net_sram": ("ram", NET_RAM, NET_RAM_SIZE, (1,)),
    }
    assert [(im.cores, im.flash, im.ram, im.features) for im in b.images] == [
        ((0,), "app_flash", "app_sram", ("app",)), ((1,), "net_flash", "net_sram", ("net",))]
    assert b.firmware.shared_ram == "app_sram" and b.shared_memory().origin == APP_RAM
    assert b.firmware.crate == "nrf5340" and b.firmware.runtime == "cortex-m-rt"
    assert b.firmware.formats == ("elf", "bin")
    assert STACK * 2 < NET_RAM_SIZE  # the stack and the network image's own data fit its RAM
    assert not b.emulated


def test_counter_rate_is_the_board_crates():
    """Per-task ticks of both images are compared: both cores count at the board's rate."""
    src = (REPO_ROOT / "firmware" / "boards" / "nrf5340" / "src" / "lib.rs").read_text()
    (rate,) = re.findall(r"pub const COUNTER_HZ: u32 = ([\d_]+);", src)
    assert int(rate.replace("_", "")) == BOARD.firmware.counter_hz == 16_000_000


def test_linker_scripts_give_each_image_its_own_memories_and_one_shared_block():
    shared_bytes = 20_000  # any block: rounded up to 1 KiB at the start of the app SRAM
    origin, length = shared_region(BOARD, shared_bytes)
    assert (origin, length) == (APP_RAM, 20 * 1024)
    app = linker_script(BOARD, 0, shared_bytes)
    assert f"FLASH : ORIGIN = {APP_FLASH:#010x}, LENGTH = {APP_FLASH_SIZE:#x}" in app
    # the application image's own RAM is the rest of the app SRAM, after the shared block
    assert f"RAM   : ORIGIN = {APP_RAM + length:#010x}, LENGTH = {APP_RAM_SIZE - length:#x}" in app
    net = linker_script(BOARD, 1, shared_bytes)
    assert f"FLASH : ORIGIN = {NET_FLASH:#010x}, LENGTH = {NET_FLASH_SIZE:#x}" in net
    assert f"RAM   : ORIGIN = {NET_RAM:#010x}, LENGTH = {NET_RAM_SIZE:#x}" in net
    for text in (app, net):
        assert f"SHARED : ORIGIN = {APP_RAM:#010x}, LENGTH = {length:#x}" in text
        assert "KEEP(*(.arielml_shared .arielml_shared.*));" in text
    # image 0 releases the network core, which boots from the origin of its flash
    assert f"__arielml_image1_vectors = {NET_FLASH:#010x};" in app


@pytest.mark.parametrize("name", FITS)
def test_fitting_models_pass_the_fit_check_per_image(name, tmp_path):
    c = compile_model(MODELS_DIR / f"{name}.tflite", board=BOARD, cores=2)
    arena = plan_arena(c)
    crate = write_crate(c, arena, BOARD, tmp_path)
    fit = check_fit(BOARD, c, arena, crate)
    app, net = fit["images"]
    assert app["flash_estimate"] <= APP_FLASH_SIZE and net["flash_estimate"] <= NET_FLASH_SIZE
    # the shared block is cut out of the app SRAM: image 0's RAM estimate includes it
    assert app["ram_estimate"] >= crate.shared_bytes + STACK and app["ram_estimate"] <= APP_RAM_SIZE
    # the network core's RAM holds its stack and its own kernel scratch (nothing shared)
    assert net["ram_estimate"] == STACK + 4 * c.scratch_words()[1] <= NET_RAM_SIZE
    assert c.schedule.cores[0] and c.schedule.cores[1]  # both cores have tasks


@pytest.mark.parametrize("name", OVER_NET_FLASH_UNLESS_PLACED)
def test_heavy_ops_stay_off_the_network_core_flash(name, tmp_path):
    path = MODELS_DIR / f"{name}.tflite"
    c = compile_model(path, board=BOARD, cores=2)
    crate = write_crate(c, plan_arena(c), BOARD, tmp_path / "placed")
    assert crate.image_consts[1] + CODE_ESTIMATE <= NET_FLASH_SIZE
    assert c.schedule.cores[1], "the network core still has work"
    # Without the flash-aware placement the same tiling overflows the network core's flash.
    plain = list_schedule(c.tasks, c.costs, core_speeds(BOARD, 2), sync_cost=SYNC_CYCLES)
    unplaced = dataclasses.replace(c, schedule=plain)
    crate = write_crate(unplaced, plan_arena(unplaced), BOARD, tmp_path / "plain")
    assert crate.image_consts[1] + CODE_ESTIMATE > NET_FLASH_SIZE


def test_model_over_both_flashes_is_refused_before_compiling(tmp_path):
    # 64 KiB of application flash (about the code alone): vww's 240 KB of weights exceed
    # the network core's 256 KiB too, so no placement fits.
    small = BOARD.path.read_text().replace("size = 0x0010_0000  # 1 MiB", "size = 0x0001_0000")
    assert small != BOARD.path.read_text()
    (tmp_path / "nrf5340.toml").write_text(small)
    board = load_board_file(tmp_path / "nrf5340.toml")
    out = tmp_path / "vww"
    with pytest.raises(UsageError) as e:
        build_model(MODELS_DIR / "vww_96_int8.tflite", board, out=out)
    m = re.fullmatch(r"vww_96_int8\.tflite does not fit nrf5340's (app|net) flash \((app|net)_flash\): needs about "
                     r"([\d,]+) bytes \(constants of its tasks ([\d,]+) \+ code ~([\d,]+)\), it has ([\d,]+)",
                     str(e.value))
    assert m, str(e.value)
    need, consts, code, have = (int(g.replace(",", "")) for g in m.groups()[2:])
    assert need == consts + code and code == CODE_ESTIMATE and need > have
    assert have == {"app": 64 * 1024, "net": NET_FLASH_SIZE}[m.group(1)]
    assert not (out / "firmware.elf").exists() and not (out / "firmware-image1.elf").exists()


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    cache = {}

    def get(name: str):
        if name not in cache:
            cache[name] = build_model(MODELS_DIR / f"{name}.tflite", BOARD, out=tmp_path_factory.mktemp(name))
        return cache[name]

    return get


def _elf(path):
    """(e_flags, allocated sections {name: (addr, size, type)}, loaded segments, symbols, first 8 bytes)."""
    with open(path, "rb") as f:
        elf = ELFFile(f)
        sections = {s.name: (s["sh_addr"], s["sh_size"], s["sh_type"]) for s in elf.iter_sections()
                    if s["sh_flags"] & SHF_ALLOC and s["sh_size"]}
        loads = [(seg["p_paddr"], seg["p_vaddr"], seg["p_filesz"], seg["p_memsz"], seg.data())
                 for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD"]
        symbols = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}
        vectors = elf.get_section_by_name(".vector_table").data()[:8]
        return elf["e_flags"], sections, loads, symbols, vectors


def _inside(addr: int, size: int, origin: int, length: int) -> bool:
    return origin <= addr and addr + size <= origin + length


def _shared_symbol(symbols: dict[str, int]) -> int:
    (addr,) = {a for n, a in symbols.items() if n.endswith("5model6SHARED")}  # the generated `model::SHARED`
    return addr


@pytest.mark.slow
@pytest.mark.parametrize("name", FITS)
def test_model_builds_two_images_for_their_cores(builds, name):
    b = builds(name)
    m = b.manifest
    assert m["board"] == "nrf5340" and m["cores"] == 2
    assert {t["core"] for t in m["tasks"]} == {0, 1}, "both cores have tasks"
    app, net = m["images"]
    assert (app["cores"], app["elf"], app["bin"]) == ([0], "firmware.elf", "firmware.bin")
    assert (net["cores"], net["elf"], net["bin"]) == ([1], "firmware-image1.elf", "firmware-image1.bin")
    assert (app["flash_memory"], app["board_flash_bytes"]) == ("app_flash", APP_FLASH_SIZE)
    assert (net["flash_memory"], net["board_flash_bytes"]) == ("net_flash", NET_FLASH_SIZE)
    for im in (app, net):
        assert 0 < im["elf_flash_bytes"] <= im["board_flash_bytes"]
        assert 0 < im["elf_ram_bytes"] <= im["board_ram_bytes"]
        assert im["constants_bytes"] < im["elf_flash_bytes"]
    # each image's RAM: its static data (image 0: with the shared block) and its stack
    assert app["elf_ram_bytes"] + STACK <= APP_RAM_SIZE
    _, net_sections, _, _, _ = _elf(b.out / net["elf"])
    net_private = sum(size for addr, size, _ in net_sections.values() if _inside(addr, size, NET_RAM, NET_RAM_SIZE))
    assert net_private + STACK <= NET_RAM_SIZE


@pytest.mark.slow
@pytest.mark.parametrize("name", FITS)
def test_each_image_lies_in_its_cores_memories(builds, name):
    b = builds(name)
    app_flags, app_secs, app_loads, app_syms, app_vt = _elf(b.out / "firmware.elf")
    net_flags, net_secs, net_loads, net_syms, net_vt = _elf(b.out / "firmware-image1.elf")

    # the shared block: same address and size in both images, never loaded (core 0 zeroes it)
    shared_addr, shared_size, shared_type = app_secs[".arielml_shared"]
    assert (shared_addr, shared_size, shared_type) == net_secs[".arielml_shared"]
    assert shared_addr == APP_RAM and shared_type == "SHT_NOBITS"
    assert _shared_symbol(app_syms) == _shared_symbol(net_syms) == APP_RAM
    block = shared_region(BOARD, shared_size)[1]

    # application image: app flash and app SRAM; its own data after the shared block
    for sec, (addr, size, _) in app_secs.items():
        if sec == ".arielml_shared":
            continue
        in_flash = _inside(addr, size, APP_FLASH, APP_FLASH_SIZE)
        assert in_flash or _inside(addr, size, APP_RAM + block, APP_RAM_SIZE - block), (sec, hex(addr))
    # network image: net flash, net SRAM and the shared block, nothing else of the app side
    for sec, (addr, size, _) in net_secs.items():
        assert (_inside(addr, size, NET_FLASH, NET_FLASH_SIZE) or _inside(addr, size, NET_RAM, NET_RAM_SIZE)
                or _inside(addr, size, APP_RAM, block)), (sec, hex(addr))
    # everything loaded from an image (code, constants, .data's initial values) is in its flash
    for loads, (origin, size) in ((app_loads, (APP_FLASH, APP_FLASH_SIZE)), (net_loads, (NET_FLASH, NET_FLASH_SIZE))):
        for paddr, _vaddr, filesz, _memsz, _data in loads:
            assert filesz == 0 or _inside(paddr, filesz, origin, size), hex(paddr)

    # each core boots from the vector table at its flash origin, stack at the top of its RAM
    for secs, vt, flash, ram_top in ((app_secs, app_vt, (APP_FLASH, APP_FLASH_SIZE), APP_RAM + APP_RAM_SIZE),
                                     (net_secs, net_vt, (NET_FLASH, NET_FLASH_SIZE), NET_RAM + NET_RAM_SIZE)):
        assert secs[".vector_table"][0] == flash[0]
        sp, reset = struct.unpack("<II", vt)
        assert sp == ram_top
        text_addr, text_size, _ = secs[".text"]
        assert reset & 1 and _inside(reset & ~1, 2, text_addr, text_size)  # Thumb code in .text
    # image 0 releases the network core at the network image's vector table
    assert app_syms["__arielml_image1_vectors"] == NET_FLASH
    # the network core keeps a panic message in its own RAM, for a debugger
    assert _inside(net_syms["ARIELML_NET_PANIC"], 160, NET_RAM, NET_RAM_SIZE)
    # float ABI: hard on the application core (FPU), soft on the network core (none)
    assert app_flags & EF_ARM_ABI_FLOAT_HARD and not app_flags & EF_ARM_ABI_FLOAT_SOFT
    assert net_flags & EF_ARM_ABI_FLOAT_SOFT and not net_flags & EF_ARM_ABI_FLOAT_HARD


@pytest.mark.slow
@pytest.mark.parametrize("name", FITS)
def test_bin_files_are_the_flash_images(builds, name):
    b = builds(name)
    for elf_name, bin_name, origin in (("firmware.elf", "firmware.bin", APP_FLASH),
                                       ("firmware-image1.elf", "firmware-image1.bin", NET_FLASH)):
        image = (b.out / bin_name).read_bytes()
        _, _, loads, _, vectors = _elf(b.out / elf_name)
        assert image[:8] == vectors  # programmed at the flash origin: the vector table first
        flash_loads = [(p, d) for p, _v, fs, _ms, d in loads if fs]
        assert origin + len(image) == max(p + len(d) for p, d in flash_loads)
        for paddr, data in flash_loads:
            assert image[paddr - origin:paddr - origin + len(data)] == data
