"""The shipped plate OCR (models/ocr/ocr.tflite) on the TFLite runtime.

The crop becomes a 32 x 128 grey image (ocr_input.preprocess); the model
gives per-step class probabilities (CTC); ocr_decode turns them into the
ranked whole-plate candidates (a prefix beam search) and the best one's
per-character confidences (at the steps where its characters are read).
TensorFlow is never imported.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from gateway.recognition import ocr_decode
from gateway.recognition.litert import ImageModel
from gateway.recognition.ocr import Candidate, OcrBackend, OcrError, OcrResult
from gateway.recognition.ocr_input import ALPHABET, INPUT_H, INPUT_W, NUM_CLASSES, preprocess

logger = logging.getLogger(__name__)

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "ocr" / "ocr.tflite"
MIN_CANDIDATES = 5


class TfliteOcr(OcrBackend):
    name = "tflite"

    def __init__(self, model_path: str | Path | None = None, threads: int = 1, candidates: int = 8):
        self.model_path = Path(model_path or DEFAULT_MODEL)
        self.k = max(MIN_CANDIDATES, candidates)
        self.net = ImageModel(self.model_path, threads)
        inp, out = self.net.input_shape, self.net.output_shape
        if inp != (1, INPUT_H, INPUT_W, 1) or out[-1] != NUM_CLASSES:
            raise OcrError(
                f"{self.model_path} is not a plate OCR model of this version (input {list(inp)}, "
                f"output {list(out)}); reinstall or retrain it (python -m models.ocr.train)"
            )

    def probabilities(self, crop_bgr: np.ndarray) -> np.ndarray:
        """Per-step class probabilities (time, classes) for one crop."""
        try:
            x = preprocess(crop_bgr)
        except ValueError as exc:
            raise OcrError(str(exc)) from None
        return self.net.run(x)

    def read(self, crop_bgr: np.ndarray) -> OcrResult:
        probs = self.probabilities(crop_bgr)
        # ask for a few spare candidates: the empty reading is dropped
        ranked = ocr_decode.beam_search(probs, ALPHABET, k=self.k + 3)
        ranked = [(t, p) for t, p in ranked if t][: self.k] or [("", 0.0)]
        text, conf = ranked[0]
        steps = ocr_decode.char_steps(probs, text, ALPHABET) if text else []
        chars = ocr_decode.char_confidences(probs, text, ALPHABET, steps) if text else []
        logger.debug("read %s (%.3f)", text, conf)
        return OcrResult(text, float(conf), chars, [Candidate(t, float(p)) for t, p in ranked],
                         ocr_decode.char_positions(steps, probs.shape[0]))
