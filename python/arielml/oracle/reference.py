"""The oracles: TFLite Micro for .tflite models (reference kernels), onnxruntime for .onnx.

TFLM keeps every tensor when asked (kPreserveAllTensors), so checks compare every
intermediate tensor, not only outputs: a saturated softmax hides errors upstream.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from arielml.errors import ToolMissing

# Big enough for every MLPerf Tiny model on the 64-bit host build (see BASELINES).
TFLM_ARENA = 512 * 1024


def _tflm_runtime():
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError:
        raise ToolMissing("tflite-micro is not installed; fix: pip install 'arielml[ref]'") from None
    return runtime


class TflmReference:
    """One TFLM interpreter for a .tflite model, reused across inputs."""

    def __init__(self, path: Path, arena_size: int = TFLM_ARENA):
        runtime = _tflm_runtime()
        self.data = Path(path).read_bytes()
        self.interp = runtime.Interpreter.from_bytes(
            self.data, arena_size=arena_size,
            intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)

    def run(self, inputs: list[np.ndarray]) -> None:
        for i, x in enumerate(inputs):
            self.interp.set_input(x, i)
        self.interp.invoke()

    def tensor(self, index: int) -> np.ndarray:
        """Tensor `index` of subgraph 0 after the last `run` (a copy)."""
        return np.array(self.interp.GetTensor(index, 0)["tensor_data"])

    def outputs(self, count: int) -> list[np.ndarray]:
        return [np.array(self.interp.get_output(i)) for i in range(count)]


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        raise ToolMissing("onnxruntime is not installed; fix: pip install onnxruntime") from None
    return onnxruntime


class OnnxReference:
    """onnxruntime on an .onnx model (NCHW), with chosen intermediate tensors exposed.

    Graph outputs come from the model exactly as given (default session options, so
    onnxruntime's QDQ fusions into its int8 kernels apply). Intermediate tensors come from
    a second session over a copy of the model that also lists them as graph outputs.
    """

    def __init__(self, path: Path, intermediates: tuple[str, ...] = ()):
        import onnx
        from onnx import shape_inference

        ort = _onnxruntime()
        self.path = Path(path)
        data = self.path.read_bytes()
        model = onnx.load_model_from_string(data)
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        self.main = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
        self.output_names = [o.name for o in self.main.get_outputs()]
        self.input_names = [i.name for i in self.main.get_inputs()]
        self.is_qdq = any(n.op_type == "QuantizeLinear" for n in model.graph.node)
        inferred = shape_inference.infer_shapes(model)
        infos = {vi.name: vi for vi in inferred.graph.value_info}
        self.elem = {vi.name: vi.type.tensor_type.elem_type
                     for vi in list(inferred.graph.value_info) + list(inferred.graph.output)}
        extra = [n for n in dict.fromkeys(intermediates)
                 if n in infos and n not in self.output_names]
        self.side_names = self.output_names + extra
        self.side = None
        if extra:
            model.graph.output.extend(infos[n] for n in extra)
            self.side = ort.InferenceSession(model.SerializeToString(), opts,
                                             providers=["CPUExecutionProvider"])
        self.outputs: dict[str, np.ndarray] = {}  # graph outputs of the model as given
        self.values: dict[str, np.ndarray] = {}  # every exposed tensor, from one session

    def run(self, inputs: dict[str, np.ndarray]) -> None:
        """`inputs` in ONNX layout (NCHW), by input name.

        Exposing a tensor can stop onnxruntime from fusing the nodes around it, so
        `values` (graph outputs included) all come from the instrumented session, where
        they are consistent with each other, and `outputs` from the model as given.
        """
        feed = {n: np.ascontiguousarray(inputs[n]) for n in self.input_names}
        self.outputs = dict(zip(self.output_names, self.main.run(self.output_names, feed)))
        self.values = dict(self.outputs)
        if self.side is not None:
            self.values = dict(zip(self.side_names, self.side.run(self.side_names, feed)))

    def tensor(self, name: str) -> np.ndarray:
        return np.asarray(self.values[name])
