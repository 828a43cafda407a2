"""The DSP (SXTB16/SMLAD) kernel loops: present in the firmware of boards whose cores have
the extension, and bit-exact with TFLM where they run (QEMU's Cortex-M33).

The host tests of the kernels (test_kernels_tflm*.py, `cargo test`) run the portable loops,
and the DSP loops only through plain-Rust emulations of the instructions. Here the real
instructions run: a graph of the conv-like ops with extreme input offsets and odd depths
(tails of the 4-byte chunks, border windows, depthwise channels not a multiple of 4) on
qemu-an521 against TFLM. test_qemu_models.py runs the five MLPerf Tiny models there too.
If the flags stop reaching the kernels crate the DSP loops silently become the portable
ones (same results, more instructions): the instruction checks catch that.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from _models import MODELS_DIR
from arielml.boards import get_board
from arielml.build import build_model
from arielml.build.cargo import cargo_command
from arielml.build.toolchain import RustToolchain
from arielml.oracle.check import check_tflite
from arielml.oracle.reference import TflmReference
from arielml.oracle.tensors_io import random_inputs
from arielml.target.device import qemu_device
from tflite_test_models import Builder


def dsp_instructions(elf) -> dict[str, int]:
    """SMLAD and SXTB16 (Thumb-2 encodings T1) in the executable sections, decoded in a
    linear sweep (literal pools may hide an instruction or two: counts are lower bounds)."""
    n = {"smlad": 0, "sxtb16": 0}
    with open(elf, "rb") as f:
        for sec in ELFFile(f).iter_sections():
            if not sec["sh_flags"] & SH_FLAGS.SHF_EXECINSTR:
                continue
            d, i = sec.data(), 0
            while i + 2 <= len(d):
                h1 = int.from_bytes(d[i:i + 2], "little")
                if h1 >> 11 in (0b11101, 0b11110, 0b11111) and i + 4 <= len(d):  # 32-bit
                    h2 = int.from_bytes(d[i + 2:i + 4], "little")
                    # SMLAD{X} Rd, Rn, Rm, Ra: FB2n | aaaa dddd 000x mmmm, Ra != 15 (SMUAD)
                    if h1 & 0xFFF0 == 0xFB20 and h2 & 0x00E0 == 0 and h2 >> 12 != 0xF:
                        n["smlad"] += 1
                    # SXTB16 Rd, Rm{, ROR #r}: FA2F | 1111 dddd 10rr mmmm
                    if h1 == 0xFA2F and h2 & 0xF0C0 == 0xF080:
                        n["sxtb16"] += 1
                    i += 4
                else:
                    i += 2
    return n


TOOLCHAIN = RustToolchain(Path("/usr/bin/rustc"), Path("/usr/bin/cargo"), "rustc 1.96.0", "build-std", None)


@pytest.mark.parametrize("name", ["qemu-an521", "rp2350"])
def test_dsp_boards_pass_the_feature_to_every_crate(name, tmp_path, monkeypatch):
    """`+dsp` goes to all crates (CARGO_ENCODED_RUSTFLAGS: core and the kernels included),
    after the caller's own RUSTFLAGS; not only to the final crate (after `--`)."""
    monkeypatch.delenv("CARGO_ENCODED_RUSTFLAGS", raising=False)
    monkeypatch.setenv("RUSTFLAGS", "-C debug-assertions=off")
    board = get_board(name)
    cmd, env = cargo_command(TOOLCHAIN, board.targets[0], "pkg", [], None, board, tmp_path / "Cargo.toml")
    assert env["CARGO_ENCODED_RUSTFLAGS"].split("\x1f") == ["-C", "debug-assertions=off", "-C", "target-feature=+dsp"]
    assert "target-feature=+dsp" not in cmd


@pytest.mark.parametrize("name", ["rp2040", "qemu-riscv32", "stm32h745", "nrf5340"])
def test_other_boards_add_no_flags(name, tmp_path, monkeypatch):
    """Cores without the extension, thumbv7em (the extension is part of the architecture)
    and the nRF5340 (board rustflags would reach its network core's image too: no DSP)."""
    monkeypatch.delenv("CARGO_ENCODED_RUSTFLAGS", raising=False)
    board = get_board(name)
    cmd, env = cargo_command(TOOLCHAIN, board.targets[0], "pkg", [], None, board, tmp_path / "Cargo.toml")
    assert "CARGO_ENCODED_RUSTFLAGS" not in env
    assert not any("target-feature" in c or "target-cpu" in c for c in cmd)


@pytest.mark.qemu
@pytest.mark.parametrize("name", ["qemu-an521", "rp2350", "stm32h745"])
def test_dsp_instructions_in_the_firmware(name, tmp_path):
    """ad01 is FULLY_CONNECTED layers: their dot products are the SMLAD loop."""
    build = build_model(MODELS_DIR / "ad01_int8.tflite", get_board(name), out=tmp_path / "b")
    for elf in [build.out / im["elf"] for im in build.manifest["images"]]:
        n = dsp_instructions(elf)
        assert n["smlad"] >= 4 and n["sxtb16"] >= 4, f"{elf.name}: {n}"


@pytest.mark.qemu
def test_portable_firmware_has_no_dsp_instructions(tmp_path):
    """The decoder finds nothing where nothing is: the nRF5340's network core (no DSP)."""
    build = build_model(MODELS_DIR / "ad01_int8.tflite", get_board("nrf5340"), out=tmp_path / "b")
    images = build.manifest["images"]
    assert dsp_instructions(build.out / images[1]["elf"]) == {"smlad": 0, "sxtb16": 0}


def _q(rng, xs, ws, depth):
    """An output (scale, zero point) that leaves most results unsaturated."""
    return float(np.float32(xs * ws * 60.0 * np.sqrt(depth) * 2.0 ** rng.uniform(-1, 1))), int(rng.integers(-60, 60))


def dsp_stress_model(seed: int = 3) -> bytes:
    """CONV_2D (3x3 SAME on 3 channels: runs of 9, a chunk tail; 1x1 on 8; 3x3 on 6, SAME
    and VALID), DEPTHWISE_CONV_2D (8 channels: the 4-channel MAC; 6 channels, stride 2) and
    FULLY_CONNECTED (depths 20 and 13), with input zero points -128 and 127 (offsets 128
    and -127: the extremes of int8 models) and 0 (no offset), per-channel weights."""
    rng = np.random.default_rng(seed)
    b = Builder()
    ws = 0.02

    def weights(shape, channels, axis):
        data = rng.integers(-127, 128, shape).astype(np.int8)
        return b.const(data, scales=[ws] * channels, axis=axis)

    def bias(n, xs):
        return b.const(rng.integers(-2000, 2000, n).astype(np.int32), scales=[xs * ws] * n, axis=0)

    conv = dict(dilationHFactor=1, dilationWFactor=1)
    q0 = (0.05, -128)
    x = b.act([1, 9, 9, 3], "int8", q0)
    q1 = (_q(rng, q0[0], ws, 27)[0], 127)
    t1 = b.op("CONV_2D", [x, weights((8, 3, 3, 3), 8, 0), bias(8, q0[0])], [b.act([1, 9, 9, 8], "int8", q1)],
              "Conv2DOptions", padding=0, strideH=1, strideW=1, **conv)
    q2 = (_q(rng, q1[0], ws, 9)[0], 0)
    t2 = b.op("DEPTHWISE_CONV_2D", [t1, weights((1, 3, 3, 8), 8, 3), bias(8, q1[0])],
              [b.act([1, 9, 9, 8], "int8", q2)], "DepthwiseConv2DOptions", padding=0, strideH=1,
              strideW=1, depthMultiplier=1, **conv)
    q3 = _q(rng, q2[0], ws, 8)
    t3 = b.op("CONV_2D", [t2, weights((6, 1, 1, 8), 6, 0), bias(6, q2[0])], [b.act([1, 9, 9, 6], "int8", q3)],
              "Conv2DOptions", padding=1, strideH=1, strideW=1, **conv)
    q4 = (_q(rng, q3[0], ws, 9)[0], -128)
    t4 = b.op("DEPTHWISE_CONV_2D", [t3, weights((1, 3, 3, 6), 6, 3), bias(6, q3[0])],
              [b.act([1, 4, 4, 6], "int8", q4)], "DepthwiseConv2DOptions", padding=1, strideH=2,
              strideW=2, depthMultiplier=1, **conv)
    q5 = (_q(rng, q4[0], ws, 54)[0], 127)
    t5 = b.op("CONV_2D", [t4, weights((5, 3, 3, 6), 5, 0), bias(5, q4[0])], [b.act([1, 2, 2, 5], "int8", q5)],
              "Conv2DOptions", padding=1, strideH=1, strideW=1, **conv)
    q6 = _q(rng, q5[0], ws, 20)
    t6 = b.op("FULLY_CONNECTED", [t5, weights((13, 20), 13, 0), bias(13, q5[0])], [b.act([1, 13], "int8", q6)],
              "FullyConnectedOptions")
    q7 = _q(rng, q6[0], ws, 13)
    t7 = b.op("FULLY_CONNECTED", [t6, weights((16, 13), 16, 0), bias(16, q6[0])], [b.act([1, 16], "int8", q7)],
              "FullyConnectedOptions")
    # A second output, off t3 (outputs are leaves: an output that a later op also reads
    # is not kept alive in the arena): 3x3 SAME over 6 channels, runs of 18 (with tails).
    q8 = _q(rng, q3[0], ws, 54)
    t8 = b.op("CONV_2D", [t3, weights((4, 3, 3, 6), 4, 0), bias(4, q3[0])], [b.act([1, 9, 9, 4], "int8", q8)],
              "Conv2DOptions", padding=0, strideH=1, strideW=1, **conv)
    return b.build([x], [t7, t8])


@pytest.mark.qemu
@pytest.mark.parametrize("cores", [1, 2])
def test_dsp_loops_bit_exact_with_tflm_on_qemu(cores, tmp_path):
    path = tmp_path / "dsp_stress.tflite"
    path.write_bytes(dsp_stress_model())
    board = get_board("qemu-an521")
    build = build_model(path, board, cores=cores, out=tmp_path / "b")
    assert dsp_instructions(build.elf)["smlad"] > 0
    ref, g = TflmReference(path), build.compiled.graph
    with qemu_device(build, board) as dev:
        for seed in range(6):
            inputs = random_inputs(g, seed)
            outputs = dev.infer(inputs).outputs
            report = check_tflite(g, path, inputs, outputs, ref)
            assert report.ok, f"input {seed}: {report.summary()}"
            # not saturated, constant outputs: the loops' results reach them
            assert len(np.unique(outputs[g.outputs[0]])) > 8
            assert len(np.unique(outputs[g.outputs[1]])) > 50
