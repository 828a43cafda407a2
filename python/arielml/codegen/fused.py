"""The Rust of band-fused tasks (plan/fusion.py): per band, the smaller conv into the
core's band buffer, then the elementwise op in place over the residual's band rows."""

from __future__ import annotations

from arielml.lower import RustCx
from arielml.pipeline import Compiled
from arielml.plan.arena import ArenaPlan
from arielml.plan.fusion import Fusion, band_binary, band_conv, bands
from arielml.schedule.partition import Task


class _BandCx(RustCx):
    """The code generator's context with some tensors replaced by explicit views."""

    def __init__(self, cx: RustCx, views: dict[str, str]):
        self.cx, self.views = cx, views

    def input(self, tensor: str) -> str:
        return self.views.get(tensor) or self.cx.input(tensor)

    def output(self, tensor: str) -> str:
        return self.views.get(tensor) or self.cx.output(tensor)

    def const(self, key, array) -> str:
        return self.cx.const(key, array)

    def scratch(self, words: int) -> str:
        return self.cx.scratch(words)


def fused_rust(c: Compiled, arena: ArenaPlan, cx: RustCx, f: Fusion, task: Task) -> str:
    conv, binary = c.lowered[f.producer], c.lowered[f.consumer]
    band = arena.offsets[f.band(c.schedule.placements[task.id].core)]
    _, _, w, ch = conv.x_shape
    _, _, ow, oc = conv.out_shape
    a_off, r_off = arena.offsets[conv.inputs[0]], arena.offsets[f.residual]
    c0, c1 = task.tile.channels
    calls = []
    for b in bands(conv, task.tile.rows):
        h, n_in = b.r1 - b.r0, (b.hi - b.lo) * w * ch
        views = {conv.inputs[0]: f"ARENA.read::<i8>({a_off + b.lo * w * ch}, {n_in})",
                 conv.output: f"ARENA.write::<i8>({band}, {h * ow * oc})"}
        calls.append(band_conv(conv, b).rust(_BandCx(cx, views), (0, h, c0, c1)))
        io = f"ARENA.write::<i8>({r_off + b.r0 * ow * oc}, {h * ow * oc})"
        other = f"ARENA.read::<i8>({band}, {h * ow * oc})"
        calls.append(band_binary(binary, b).rust_in_place(cx, (0, h, c0, c1), io, other, f.first))
    return "\n        ".join(calls)
