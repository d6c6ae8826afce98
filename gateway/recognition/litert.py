"""Loading a TFLite model for the gateway without TensorFlow.

`tflite_runtime` where it is installed (smaller, on car computers), else
`ai_edge_litert`; both have the same Interpreter.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

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


def write_input(interp, index: int, image: np.ndarray) -> None:
    """`image` (H x W x C) into the top-left of the interpreter's 1 x H' x W' x C float input,
    the rest zero, written in place.

    set_tensor would copy a whole float frame a second time (about 1.5 ms for the detector's
    fine pass). The buffer is written whole on every call: the runtime may use its memory for
    its own work during invoke, so nothing left in it can be trusted to last to the next frame.
    The view is dropped before returning, as the runtime requires before invoke.
    """
    buf = interp.tensor(index)()
    h, w = image.shape[:2]
    buf[0, :h, :w] = image
    buf[0, h:] = 0.0
    buf[0, :h, w:] = 0.0
    del buf
