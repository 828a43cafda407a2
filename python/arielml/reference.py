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
