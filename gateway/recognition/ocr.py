"""Plate OCR: a small abstract backend and a registry of runtimes.

A backend takes one plate crop (BGR, tight or with a margin around the
plate) and returns an `OcrResult`: the text, its confidence, a confidence per
character, at least five whole-plate candidates ranked by probability
(the hotlist matcher checks all of them) and, where it can tell, where
across the crop each character lies (the recognizer narrows a box that is
far wider than the characters: `text_span.py`). Each runtime lives in its own
module (`ocr_tflite`, ...) and registers its subclass under a name;
`create(name, ...)` finds it (`backends.Registry`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from gateway.errors import AlprError
from gateway.recognition.backends import Backend, Registry


class OcrError(AlprError):
    """The OCR model is missing or unreadable, the backend unknown, or a crop unusable."""


REGISTRY = Registry("OCR", ("gateway.recognition.ocr_tflite",), OcrError, "recognition.ocr")


@dataclass(frozen=True)
class Candidate:
    text: str
    confidence: float


@dataclass
class OcrResult:
    text: str
    confidence: float
    char_confidences: list[float] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)  # best first; candidates[0].text == text
    # where across the crop each character of `text` was read (share of the crop's width, 0..1);
    # empty where a backend cannot say
    char_positions: list[float] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "confidence": round(float(self.confidence), 4),
            "char_confidences": [round(float(c), 4) for c in self.char_confidences],
            "candidates": [{"text": c.text, "confidence": round(float(c.confidence), 4)} for c in self.candidates],
        }


class OcrBackend(Backend, ABC):
    registry = REGISTRY

    @abstractmethod
    def read(self, crop_bgr: np.ndarray) -> OcrResult:
        """The text of the plate in the crop, with per-character confidences and candidates."""


def create(name: str = "tflite", **options) -> OcrBackend:
    return REGISTRY.create(name, **options)
