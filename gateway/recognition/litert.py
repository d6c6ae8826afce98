"""Loading a TFLite model for the gateway without TensorFlow.

`tflite_runtime` where it is installed (smaller, on car computers), else
`ai_edge_litert`; both have the same Interpreter.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
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


class ImageModel:
    """One interpreter of a model with one 1 x H x W x C image input and one output.

    The OCR is one; the detector runs its file in several views (its passes,
    the closer look), each an ImageModel with its own input size.
    """

    def __init__(self, path: Path, threads: int = 1):
        self.interp = interpreter(path, threads)
        inp, out = self.interp.get_input_details()[0], self.interp.get_output_details()[0]
        self._in, self._out = inp["index"], out["index"]
        signature = inp.get("shape_signature", inp["shape"])
        self.dynamic = bool(signature[1] < 0 and signature[2] < 0)  # exported for any input size
        self.input_shape = tuple(int(v) for v in inp["shape"])
        self.output_shape = tuple(int(v) for v in out["shape"])

    def resize(self, h: int, w: int) -> None:
        """Make the input h x w (a file exported for any size only)."""
        shape = [1, h, w, self.input_shape[3]]
        self.interp.resize_tensor_input(self._in, shape)
        self.interp.allocate_tensors()
        self.input_shape = tuple(shape)
        self.output_shape = tuple(int(v) for v in self.interp.get_output_details()[0]["shape"])

    def fit(self, image: np.ndarray, scale: float) -> np.ndarray:
        """`image` scaled by `scale`, cut to the input's size: what `run` takes.

        Area averaging where shrinking is strong enough to alias (a large frame's base pass);
        bilinear otherwise: at the fine pass's milder shrink area averaging costs 3-4 ms more
        on a 1280 x 720 or 1920 x 1080 frame and found no more small plates.
        """
        h, w = image.shape[:2]
        _, in_h, in_w, _ = self.input_shape
        size = (min(in_w, max(1, round(w * scale))), min(in_h, max(1, round(h * scale))))
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale <= 0.5 else cv2.INTER_LINEAR)

    def run(self, image: np.ndarray) -> np.ndarray:
        """The output for `image` (H x W x C, at most the input's size) at the input's top-left,
        the rest zero.

        The image is written into the runtime's own input buffer: set_tensor would copy a
        whole float frame a second time (about 1.5 ms for the detector's fine pass). The
        buffer is written whole on every call, padding too: the runtime may use its memory
        for its own work during invoke, so nothing left in it lasts to the next frame. The
        view is dropped before invoke, as the runtime requires.
        """
        buf = self.interp.tensor(self._in)()
        h, w = image.shape[:2]
        buf[0, :h, :w] = image
        buf[0, h:] = 0.0
        buf[0, :h, w:] = 0.0
        del buf
        self.interp.invoke()
        return self.interp.get_tensor(self._out)[0]
