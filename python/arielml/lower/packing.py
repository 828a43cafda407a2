"""Build-time weight packing for the matrix-product kernels (firmware/kernels/src/gemm).

The compiler knows every weight, zero point and scale, so it decides here what a library
decides on every call:
- the weights' layout for the target's micro-kernel family (`gemm_layout`, read from the
  kernels themselves through the extension, so both sides agree by construction);
- the input offset folded into the bias (`fold_bias`): the kernels multiply raw int8;
- whether requantization may take its short exact form (`fast_requant_ok`), from a bound
  on every accumulator computed from the weights and the bias.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arielml import _native

# (MR, NR) per family and op shape: output channels per packed block, pixels per
# micro-kernel call. Every pair here has an instance in the extension and in the firmware
# crate (python/native/src/bind_gemm.rs `dispatch!`).
BLOCKING = {
    ("dsp", "conv"): (2, 2),
    ("dsp", "fc"): (4, 1),
    ("rv32", "conv"): (4, 2),
    ("rv32", "fc"): (8, 1),
    ("v6m", "conv"): (4, 1),
    ("v6m", "fc"): (4, 1),
    ("portable", "conv"): (4, 2),
    ("portable", "fc"): (4, 1),
}
FAMILIES = ("dsp", "rv32", "v6m", "portable")
# The Rust type implementing each family's micro-kernels (firmware/kernels/src/gemm):
# RV32 (31 registers) runs the portable kernels with a larger register block.
FAMILY_TYPES = {"dsp": "gemm::dsp::Dsp", "rv32": "gemm::portable::Portable", "v6m": "gemm::v6m::V6m",
                "portable": "gemm::portable::Portable"}
# Depthwise filter sizes with a kernel instantiated for them (loops unrolled); others run
# the kernel that reads the size at run time. The extension instantiates the same set
# (python/native/src/bind_gemm.rs `dispatch_dw!`).
DW_SPECIALISED = ((3, 3), (5, 5))


def dw_scratch_words(channels: int) -> int:
    """Scratch words of a packed depthwise kernel: one pixel of padding values
    (firmware/kernels/src/gemm `depthwise_scratch_words`)."""
    return -(-channels // 4)


def dw_specialised(kh: int, kw: int) -> tuple[int, int]:
    """The (KH, KW) const generics of a depthwise kernel for a kh x kw filter."""
    return (kh, kw) if (kh, kw) in DW_SPECIALISED else (0, 0)


# The largest |accumulator| the short requantization handles exactly (FastRequant).
FAST_ACC_LIMIT = 1 << 30


@dataclass(frozen=True)
class GemmPlan:
    """What the packer decided for one op."""
    family: str
    mr: int
    nr: int
    kp: int  # K padded to a multiple of 4
    weights: np.ndarray  # packed, little-endian uint32 words
    bias: np.ndarray  # folded, int32, padded to whole blocks
    fast_requant: bool

    def scratch_words(self, direct: bool) -> int:
        _, per_k = gemm_layout(self.family)
        gathered = 0 if direct else self.nr * self.kp // 4
        return gathered + -(-self.nr * self.kp * per_k // 4)


def board_family(board) -> str:
    """The kernel family every core of `board` runs well: "dsp" when all of them have the
    DSP extension (Armv7E-M, or Armv8-M Mainline built with `+dsp`), "v6m" when all are
    Armv6-M, "rv32" when all are RV32, else "portable". The host (board None) runs the
    portable family."""
    if board is None:
        return "portable"
    dsp_flag = "target-feature=+dsp" in " ".join(board.firmware.rustflags)
    def has_dsp(target: str) -> bool:
        return target.startswith("thumbv7em") or (target.startswith("thumbv8m.main") and dsp_flag)
    targets = [c.target for c in board.cores]
    if all(has_dsp(t) for t in targets):
        return "dsp"
    if all(t.startswith("thumbv6m") for t in targets):
        return "v6m"
    if all(t.startswith("riscv32") for t in targets):
        return "rv32"
    return "portable"


def gemm_layout(family: str) -> tuple[int, int]:
    """(KC, prepared bytes per K value per pixel) of a kernel family; KC 0 is one chunk of
    the whole padded K (a block is its channels' rows)."""
    return tuple(_native.gemm_layout(family))


def pad4(n: int) -> int:
    return -(-n // 4) * 4


def pack_weights(w2d: np.ndarray, family: str, mr: int) -> np.ndarray:
    """(M, K) int8 -> the family's blocks: [block][chunk][channel of block][KC values],
    zero-padded to whole blocks and to K padded to a multiple of 4."""
    kc, _ = gemm_layout(family)
    m, k = w2d.shape
    kp, blocks = pad4(k), -(-m // mr)
    kc = kc or kp
    full = np.zeros((blocks * mr, kp), np.int8)
    full[:m, :k] = w2d
    packed = full.reshape(blocks, mr, kp // kc, kc).transpose(0, 2, 1, 3)
    return np.frombuffer(np.ascontiguousarray(packed).tobytes(), "<u4").copy()


def fold_bias(w2d: np.ndarray, bias: np.ndarray | None, input_offset: int, mr: int) -> np.ndarray:
    """bias + input_offset * sum_k(w), wrapping to int32 as the kernel's sums do, padded
    with zeros to whole blocks."""
    m = w2d.shape[0]
    b = np.zeros(m, np.int64) if bias is None else np.asarray(bias, np.int64)
    folded = b + int(input_offset) * w2d.astype(np.int64).sum(axis=1)
    out = np.zeros(-(-m // mr) * mr, np.int64)
    out[:m] = folded
    return ((out + 2**31) % 2**32 - 2**31).astype(np.int32)


def fast_requant_ok(w2d: np.ndarray, bias: np.ndarray | None, input_offset: int, shift) -> bool:
    """Every channel's shift in -31..-1 and every accumulator below 2^30 in magnitude:
    |bias + input_offset * sum(w)| + 128 * sum(|w|) bounds it (raw int8 inputs)."""
    shift = np.asarray(shift)
    if shift.size == 0 or shift.max() > -1 or shift.min() < -31:
        return False
    b = np.zeros(w2d.shape[0], np.int64) if bias is None else np.asarray(bias, np.int64)
    w = w2d.astype(np.int64)
    bound = np.abs(b + int(input_offset) * w.sum(axis=1)) + 128 * np.abs(w).sum(axis=1)
    return bool(bound.max() < FAST_ACC_LIMIT)


def plan_gemm(w2d: np.ndarray, bias, input_offset: int, shift, family: str, shape: str) -> GemmPlan:
    """Pack one CONV_2D (`shape` "conv", w2d = OHWI filter as (O, H*W*I)) or
    FULLY_CONNECTED ("fc") for `family`."""
    mr, nr = BLOCKING[(family, shape)]
    w2d = np.asarray(w2d, np.int8)
    return GemmPlan(family, mr, nr, pad4(w2d.shape[1]), pack_weights(w2d, family, mr),
                    fold_bias(w2d, bias, input_offset, mr), fast_requant_ok(w2d, bias, input_offset, shift))


def pack_depthwise(w: np.ndarray, family: str) -> np.ndarray:
    """(1, kh, kw, C) int8 -> per four-channel group, per tap: the DSP family's two words
    of int16 pairs (w0, w2), (w1, w3), or the portable family's one word of four int8."""
    taps = w.shape[1] * w.shape[2]
    c = w.shape[3]
    groups = -(-c // 4)
    full = np.zeros((taps, groups * 4), np.int64)
    full[:, :c] = w.reshape(taps, c)
    g = full.reshape(taps, groups, 4).transpose(1, 0, 2)  # (group, tap, channel)
    if family == "dsp":
        lanes = g[..., [0, 2, 1, 3]] & 0xFFFF  # (w0, w2), (w1, w3) as low, high int16
        words = lanes[..., 0::2] | (lanes[..., 1::2] << 16)
    else:
        b = g & 0xFF
        words = b[..., 0] | b[..., 1] << 8 | b[..., 2] << 16 | b[..., 3] << 24
    return np.ascontiguousarray(words.reshape(-1)).astype("<u4")


def plan_depthwise(w: np.ndarray, bias, input_offset: int, shift, family: str) -> GemmPlan:
    """Pack a DEPTHWISE_CONV_2D filter (1, kh, kw, C), depth multiplier 1."""
    w = np.asarray(w, np.int8)
    w2d = w.reshape(-1, w.shape[3]).T  # (C, taps): one "row" per channel
    return GemmPlan(family, 4, 1, 0, pack_depthwise(w, family), fold_bias(w2d, bias, input_offset, 4),
                    fast_requant_ok(w2d, bias, input_offset, shift))
