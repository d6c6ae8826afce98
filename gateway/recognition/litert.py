"""Loading a TFLite model for the gateway without TensorFlow.

`tflite_runtime` where it is installed (smaller, on car computers), else
`ai_edge_litert`; both have the same Interpreter.
"""

from __future__ import annotations

import logging
from pathlib import Path

from gateway.errors import AlprError

logger = logging.getLogger(__name__)


class ModelLoadError(AlprError):
    """A .tflite model file is missing or cannot be read by the runtime."""


def interpreter(path: Path, threads: int = 1):
    try:
        from tflite_runtime.interpreter import Interpreter
    except ImportError:
        from ai_edge_litert.interpreter import Interpreter
    if not Path(path).is_file():
        raise ModelLoadError(f"model file {path} is missing; reinstall the gateway (pip install -e .)")
    try:
        interp = Interpreter(model_path=str(path), num_threads=threads)
        interp.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"model file {path} cannot be loaded: {exc}") from None
    return interp
