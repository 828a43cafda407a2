"""The intermediate representation every frontend produces and every pass consumes."""

from arielml.ir.graph import Graph
from arielml.ir.ops import (
    NO_CLAMP, AddRequant, AxisAttrs, BinaryAttrs, ChannelRequant, ClampAttrs, Conv2DAttrs,
    FullyConnectedAttrs, LeakyReluAttrs, MeanAttrs, MulRequant, NoAttrs, Op, PadAttrs,
    Padding, Pool2DAttrs, ReshapeAttrs, SoftmaxAttrs, SoftmaxRequant, SplitAttrs,
    StridedSliceAttrs, TransposeAttrs,
)
from arielml.ir.printer import format_graph
from arielml.ir.kinds import OpKind, output_shapes
from arielml.ir.shapes import ShapeError, same_padding
from arielml.ir.types import DType, Quant, Tensor, TensorType
from arielml.ir.verify import VerifyError, verify

__all__ = [
    "NO_CLAMP", "AddRequant", "AxisAttrs", "BinaryAttrs", "ChannelRequant", "ClampAttrs",
    "Conv2DAttrs", "DType", "FullyConnectedAttrs", "Graph", "LeakyReluAttrs", "MeanAttrs",
    "MulRequant", "NoAttrs", "Op", "OpKind", "PadAttrs", "Padding", "Pool2DAttrs", "Quant",
    "ReshapeAttrs", "ShapeError", "SoftmaxAttrs", "SoftmaxRequant", "SplitAttrs",
    "StridedSliceAttrs", "Tensor", "TensorType", "TransposeAttrs", "VerifyError",
    "format_graph", "output_shapes", "same_padding", "verify",
]
