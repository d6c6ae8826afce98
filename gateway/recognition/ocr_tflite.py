"""The shipped plate OCR (models/ocr/ocr.tflite) on the TFLite runtime.

The crop becomes a 32 x 128 grey image (ocr_input.preprocess); the model
gives per-step class probabilities (CTC); ocr_decode turns them into the
ranked whole-plate candidates (a prefix beam search) and the best one's
per-character confidences (at the steps where its characters are read).
TensorFlow is never imported.

A crop narrower than `distant_below` pixels (a distant plate, or a rough box
around one) is also read by a second file, `ocr_distant.tflite`: the tenth
session's networks trained further on the detector's cuts of small plates, which read
such cuts better and large, tight crops worse. The two files' per-step
probabilities are averaged there (one more model run, about 0.5 ms); wider
crops are read by the first file alone. See the OCR model card, tenth session.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from gateway.recognition import ocr_decode
from gateway.recognition.litert import ImageModel, ModelLoadError
from gateway.recognition.ocr import Candidate, OcrBackend, OcrError, OcrResult
from gateway.recognition.ocr_input import ALPHABET, INPUT_H, INPUT_W, NUM_CLASSES, preprocess

logger = logging.getLogger(__name__)

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "ocr" / "ocr.tflite"
DEFAULT_DISTANT_MODEL = DEFAULT_MODEL.with_name("ocr_distant.tflite")
MIN_CANDIDATES = 5
# A crop under this width (the plate and the cut's margin; about an 88 px plate in a tight box)
# is read by both files. Chosen on us-speed photos and their plates pasted small into frames,
# where 80, 90, 100 and 120 were tried (OCR model card, tenth session).
DISTANT_BELOW_PX = 100


class TfliteOcr(OcrBackend):
    name = "tflite"

    def __init__(self, model_path: str | Path | None = None, threads: int = 1, candidates: int = 8,
                 distant_model_path: str | Path | None = None, distant_below: int = DISTANT_BELOW_PX):
        """`model_path` given alone replaces the OCR, and no distant file is read with it (the
        distant file was trained from the shipped one): name `distant_model_path` too to pair them.
        `distant_below` 0 reads every crop with `model_path` alone."""
        self.model_path = Path(model_path or DEFAULT_MODEL)
        self.k = max(MIN_CANDIDATES, candidates)
        self.net = _ocr_model(self.model_path, threads)
        named = distant_model_path is not None
        if not named and model_path is None:
            distant_model_path = DEFAULT_DISTANT_MODEL
        self.distant_below = int(distant_below) if distant_model_path is not None else 0
        self.distant = None
        self.distant_model_path = distant_model_path
        self.problems: list[str] = []
        if self.distant_below > 0:
            try:
                self.distant = _ocr_model(Path(distant_model_path), threads)
            except (ModelLoadError, OcrError) as exc:
                if named:
                    raise
                # the shipped second file only helps small plates: without it the car still reads
                # every plate, so a broken install must not stop recognition
                self.problems.append(f"{exc}; reading every plate with {self.model_path.name} alone "
                                     "(distant plates are read less well) until it is reinstalled")
                logger.error("%s", self.problems[-1])
                self.distant_below = 0

    def describe(self) -> dict:
        return {**super().describe(), "model": self.model_path.name,
                "distant_model": Path(self.distant_model_path).name if self.distant is not None else None,
                "distant_below_px": self.distant_below}

    def probabilities(self, crop_bgr: np.ndarray) -> np.ndarray:
        """Per-step class probabilities (time, classes) for one crop."""
        try:
            x = preprocess(crop_bgr)
        except ValueError as exc:
            raise OcrError(str(exc)) from None
        probs = self.net.run(x)
        if self.distant is not None and crop_bgr.shape[1] < self.distant_below:
            probs = (probs + self.distant.run(x)) * 0.5
        return probs

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


def _ocr_model(path: Path, threads: int) -> ImageModel:
    net = ImageModel(path, threads)
    inp, out = net.input_shape, net.output_shape
    if inp != (1, INPUT_H, INPUT_W, 1) or out[-1] != NUM_CLASSES:
        raise OcrError(
            f"{path} is not a plate OCR model of this version (input {list(inp)}, "
            f"output {list(out)}); reinstall or retrain it (python -m models.ocr.train)"
        )
    return net
