"""Constant folding, reshape folding and dead-code elimination.

Keras exports compute reshape targets at run time (SHAPE -> STRIDED_SLICE -> PACK); with
static shapes all of that is constant, so it is evaluated here with numpy and disappears.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from arielml.ir import NO_CLAMP, Graph, Op, OpKind, Tensor

_RESHAPES = (OpKind.RESHAPE, OpKind.SQUEEZE, OpKind.EXPAND_DIMS)


def _slice(x: np.ndarray, op: Op) -> np.ndarray:
    a = op.attrs
    # A resolved end of -1 with a negative stride means "through index 0".
    index = tuple(slice(b, None if e < 0 else e, s) for b, e, s in zip(a.begin, a.end, a.strides))
    return x[index]


def _evaluate(tensors: dict[str, Tensor], op: Op) -> np.ndarray | None:
    """The op's output value, or None when it cannot be folded."""
    ins = [tensors[n] for n in op.inputs]
    if op.kind is OpKind.SHAPE:  # depends only on the static shape
        return np.array(ins[0].shape)
    if len(op.outputs) != 1 or not all(t.is_const for t in ins):
        return None
    # Data movement only: no arithmetic, so quantized values fold when params agree.
    if len({t.quant for t in ins} | {tensors[op.outputs[0]].quant}) != 1:
        return None
    xs = [t.data for t in ins]
    if op.kind in _RESHAPES:
        return xs[0]
    if op.kind is OpKind.STRIDED_SLICE:
        return _slice(xs[0], op)
    if op.kind is OpKind.PACK:
        return np.stack(xs, axis=op.attrs.axis)
    if op.kind is OpKind.TRANSPOSE:
        return np.transpose(xs[0], op.attrs.perm)
    if op.kind is OpKind.CONCATENATION and op.attrs.clamp == NO_CLAMP:
        return np.concatenate(xs, axis=op.attrs.axis)
    return None


def fold_constants(g: Graph) -> Graph:
    tensors = dict(g.tensors)
    ops = []
    for op in g.ops:
        value = _evaluate(tensors, op)
        if value is None:
            ops.append(op)
            continue
        out = tensors[op.outputs[0]]
        data = np.asarray(value).astype(out.dtype.numpy).reshape(out.shape)
        tensors[out.name] = Tensor(out.name, out.type, data)
    return eliminate_dead_code(g.replace(ops=ops, tensors=tensors))


def eliminate_dead_code(g: Graph) -> Graph:
    # Assigning a variable is an effect the next invocation sees: always live.
    live = set(g.outputs) | {n for n, t in g.tensors.items() if t.is_state}
    kept = []
    for op in reversed(g.ops):
        if any(o in live for o in op.outputs):
            kept.append(op)
            live.update(op.inputs)
    return g.replace(ops=kept[::-1])


def _rename(op: Op, old: str, new: str) -> Op:
    return dataclasses.replace(op, inputs=tuple(new if n == old else n for n in op.inputs))


def fold_reshapes(g: Graph) -> Graph:
    """SQUEEZE/EXPAND_DIMS become RESHAPE; reshape chains collapse; no-op reshapes vanish."""
    ops = [dataclasses.replace(op, kind=OpKind.RESHAPE) if op.kind in _RESHAPES else op
           for op in g.ops]
    changed = True
    while changed:
        changed = False
        view = Graph(g.tensors, ops, g.inputs, g.outputs)
        producers, consumers = view.producers(), view.consumers()
        for i, op in enumerate(ops):
            if op.kind is not OpKind.RESHAPE:
                continue
            x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
            p = producers.get(x.name)
            if (p is not None and ops[p].kind is OpKind.RESHAPE and x.name not in g.outputs
                    and len(consumers[x.name]) == 1):
                ops[i] = dataclasses.replace(op, inputs=ops[p].inputs)
                del ops[p]
                changed = True
                break
            if x.type == y.type and y.name not in g.outputs:
                ops = [_rename(o, y.name, x.name) for j, o in enumerate(ops) if j != i]
                changed = True
                break
    return g.replace(ops=ops)


def fold_requantize_dequantize(g: Graph) -> Graph:
    """DEQUANTIZE(QUANTIZE(x)) with int8 x: dequantize x itself (one rounding fewer).

    The ONNX frontend emits this around int8 SOFTMAX, whose output scale TFLM fixes.
    """
    producers, consumers = g.producers(), g.consumers()
    ops = list(g.ops)
    for i, op in enumerate(ops):
        if op.kind is not OpKind.DEQUANTIZE or op.inputs[0] not in producers:
            continue
        mid = op.inputs[0]
        q = g.ops[producers[mid]]
        if (q.kind is OpKind.QUANTIZE and g.tensors[q.inputs[0]].quant is not None
                and len(consumers[mid]) == 1 and mid not in g.outputs):
            ops[i] = dataclasses.replace(op, inputs=q.inputs)
    return eliminate_dead_code(g.replace(ops=ops))
