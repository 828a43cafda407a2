"""Fuse RELU / RELU6 / CLIP into the op that produces their input.

The producer's clamp becomes the intersection of both ranges. For int8 this is only exact
when the activation does not requantize (same scale and zero point on both sides), which
is what converters emit; otherwise the activation stays a separate op.
"""

from __future__ import annotations

import dataclasses

from arielml.ir import Graph, Op, OpKind

_ACTIVATIONS = (OpKind.RELU, OpKind.RELU6, OpKind.CLIP)
_CLAMPABLE = (OpKind.CONV_2D, OpKind.DEPTHWISE_CONV_2D, OpKind.FULLY_CONNECTED, OpKind.ADD,
              OpKind.SUB, OpKind.MUL, OpKind.AVERAGE_POOL_2D, OpKind.MAX_POOL_2D,
              OpKind.CONCATENATION)


def _fusible(g: Graph, producer: Op, act: Op, consumers: dict[str, list[int]]) -> bool:
    mid = act.inputs[0]
    if producer.kind not in _CLAMPABLE or mid in g.outputs or len(consumers[mid]) != 1:
        return False
    a, b = g.tensors[mid].type, g.tensors[act.outputs[0]].type
    return a.dtype is b.dtype and a.quant == b.quant and a.shape == b.shape


def fuse_activations(g: Graph) -> Graph:
    producers, consumers = g.producers(), g.consumers()
    ops: list[Op | None] = list(g.ops)
    for i, act in enumerate(g.ops):
        if act.kind not in _ACTIVATIONS or act.inputs[0] not in producers:
            continue
        p = producers[act.inputs[0]]
        producer = ops[p]
        if producer is None or not _fusible(g, producer, act, consumers):
            continue
        lo = max(producer.attrs.clamp[0], act.attrs.clamp[0])
        hi = min(producer.attrs.clamp[1], act.attrs.clamp[1])
        attrs = dataclasses.replace(producer.attrs, clamp=(lo, hi))
        ops[p] = dataclasses.replace(producer, attrs=attrs, outputs=act.outputs, requant=None)
        ops[i] = None
    return g.replace(ops=[op for op in ops if op is not None])
