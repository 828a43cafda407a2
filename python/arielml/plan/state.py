"""The persistent state region: every variable (`Tensor.is_state`) at a fixed offset.

Separate from the arena on purpose: the arena planner reuses bytes between buffers whose
uses cannot overlap within one invocation, while a variable must keep its bytes from one
invocation to the next, so no buffer may ever share them. The region is one static of
its own in the firmware (`STATE` in model.rs), initialised at boot with the variables'
initial values (`init_bytes`), never zeroed between invocations.
"""

from __future__ import annotations

from dataclasses import dataclass

from arielml.ir import Graph

ALIGN = 8  # as the arena's buffers


@dataclass(frozen=True)
class StatePlan:
    offsets: dict[str, int]  # variable name -> byte offset in the region
    sizes: dict[str, int]
    size: int  # bytes (0: a model without variables)
    init: bytes  # the region's contents at boot

    def __bool__(self) -> bool:
        return bool(self.offsets)


def plan_state(g: Graph) -> StatePlan:
    offsets, sizes, data = {}, {}, bytearray()
    # In the graph's order, not by name: names (model contents) never shape generated code.
    for t in g.variables():
        data += b"\0" * (-len(data) % ALIGN)
        offsets[t.name], sizes[t.name] = len(data), t.type.nbytes
        data += t.init.astype(t.init.dtype.newbyteorder("<")).tobytes()
    return StatePlan(offsets, sizes, len(data), bytes(data))
