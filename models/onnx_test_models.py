"""Small ONNX models for the ONNX check tests, built at test time with onnx.helper and
quantized (QDQ, int8) by onnxruntime. Never commit the generated files.

    python models/onnx_test_models.py OUT_DIR   # writes every model into OUT_DIR

- `convnet()`: NCHW conv -> relu -> maxpool -> depthwise conv -> relu -> 1x1 conv ->
  residual Add -> Concat -> AveragePool -> Flatten -> Gemm -> Softmax (opset 13): the
  float model, and through `quantize()` the per-channel and per-tensor QDQ models.
- `float_ops()`: a float32 graph over the other lowered ops: Sigmoid, Tanh, LeakyRelu,
  HardSwish, Clip, Pad, ReduceMean, Transpose, Concat (opset 14).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

INPUT_SHAPE = (1, 3, 12, 12)


def _finish(nodes, inits, out_shape, opset: int, name: str, input_shape=INPUT_SHAPE):
    import onnx
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out_shape))], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def convnet(seed: int = 0):
    from onnx import helper, numpy_helper
    rng = np.random.default_rng(seed)

    def init(name, shape, std=0.3):
        return numpy_helper.from_array(rng.normal(0, std, shape).astype(np.float32), name)

    inits = [init("w1", (8, 3, 3, 3)), init("b1", (8,)), init("wd", (8, 1, 3, 3)), init("bd", (8,)),
             init("w2", (8, 8, 1, 1)), init("b2", (8,)), init("wf", (10, 64)), init("bf", (10,))]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["m1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["m1", "wd", "bd"], ["c2"], pads=[1, 1, 1, 1], group=8),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Conv", ["r2", "w2", "b2"], ["c3"]),
        helper.make_node("Add", ["c3", "m1"], ["a"]),
        helper.make_node("Concat", ["a", "r2"], ["cat"], axis=1),
        helper.make_node("AveragePool", ["cat"], ["p"], kernel_shape=[3, 3], strides=[3, 3]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["g"], transB=1),
        helper.make_node("Softmax", ["g"], ["y"]),
    ]
    return _finish(nodes, inits, (1, 10), 13, "convnet")


def float_ops(seed: int = 1):
    from onnx import helper, numpy_helper
    rng = np.random.default_rng(seed)
    f32 = lambda a, n: numpy_helper.from_array(np.asarray(a, np.float32), n)  # noqa: E731
    i64 = lambda a, n: numpy_helper.from_array(np.asarray(a, np.int64), n)  # noqa: E731
    inits = [numpy_helper.from_array(rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "w"),
             f32(-0.5, "lo"), f32(0.75, "hi"), i64([0, 0, 1, 2, 0, 0, 1, 0], "pads"),
             f32(0.25, "pv")]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Sigmoid", ["c"], ["s"]),
        helper.make_node("Tanh", ["c"], ["t"]),
        helper.make_node("LeakyRelu", ["c"], ["l"], alpha=0.15),
        helper.make_node("HardSwish", ["c"], ["h"]),
        helper.make_node("Clip", ["l", "lo", "hi"], ["k"]),
        helper.make_node("Concat", ["s", "t", "h", "k"], ["cat"], axis=1),
        helper.make_node("Pad", ["cat", "pads", "pv"], ["pd"]),
        helper.make_node("Transpose", ["pd"], ["tr"], perm=[0, 2, 3, 1]),
        helper.make_node("ReduceMean", ["tr"], ["y"], axes=[1, 2], keepdims=0),
    ]
    return _finish(nodes, inits, (1, 16), 14, "float_ops")


def quantize(float_path: Path, out_path: Path, per_channel: bool, input_shape=INPUT_SHAPE,
             samples: int = 8) -> None:
    """QDQ int8 (activations and weights) with a small random calibration set."""
    import logging

    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.data = iter([{"x": np.random.default_rng(100 + i).normal(size=input_shape)
                               .astype(np.float32)} for i in range(samples)])

        def get_next(self):
            return next(self.data, None)

    logging.getLogger().setLevel(logging.ERROR)  # onnxruntime's "pre-process" advice
    quantize_static(str(float_path), str(out_path), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    per_channel=per_channel)


def write_all(out_dir: Path) -> dict[str, Path]:
    import onnx
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"float": out_dir / "convnet_float.onnx", "ops": out_dir / "float_ops.onnx",
             "qdq_per_channel": out_dir / "convnet_qdq_pc.onnx",
             "qdq_per_tensor": out_dir / "convnet_qdq_pt.onnx"}
    onnx.save(convnet(), paths["float"])
    onnx.save(float_ops(), paths["ops"])
    quantize(paths["float"], paths["qdq_per_channel"], per_channel=True)
    quantize(paths["float"], paths["qdq_per_tensor"], per_channel=False)
    return paths


if __name__ == "__main__":
    for p in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else ".")).values():
        print(p)
