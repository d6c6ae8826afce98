"""Plate OCR: a small abstract backend and a registry of runtimes.

A backend takes one plate crop (BGR, tight or with a margin around the
plate) and returns an `OcrResult`: the text, its confidence, a confidence per
character and at least five whole-plate candidates ranked by probability
(the hotlist matcher checks all of them). Each runtime lives in its own
module (`ocr_tflite`, ...) and registers its subclass under a name;
`create(name, ...)` imports the runtime modules it knows and logs, rather
than fails on, one that cannot be imported.
"""

from __future__ import annotations

import importlib
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from gateway.errors import AlprError

logger = logging.getLogger(__name__)

RUNTIME_MODULES = ("gateway.recognition.ocr_tflite",)


class OcrError(AlprError):
    """The OCR model is missing or unreadable, the backend unknown, or a crop unusable."""


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

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "confidence": round(float(self.confidence), 4),
            "char_confidences": [round(float(c), 4) for c in self.char_confidences],
            "candidates": [{"text": c.text, "confidence": round(float(c.confidence), 4)} for c in self.candidates],
        }


class OcrBackend(ABC):
    name: str = ""
    registry: dict[str, type[OcrBackend]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # only a class that names itself: a subclass of a backend (a test's, a tool's) inherits
        # the name and would otherwise take the backend's place in the registry
        if cls.__dict__.get("name"):
            OcrBackend.registry[cls.name] = cls

    @abstractmethod
    def read(self, crop_bgr: np.ndarray) -> OcrResult:
        """The text of the plate in the crop, with per-character confidences and candidates."""


def _load_runtimes() -> None:
    for module in RUNTIME_MODULES:
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - one broken runtime must not hide the others
            logger.warning("OCR runtime %s not available: %s", module, exc)


def available() -> list[str]:
    _load_runtimes()
    return sorted(OcrBackend.registry)


def create(name: str = "tflite", **options) -> OcrBackend:
    _load_runtimes()
    cls = OcrBackend.registry.get(name)
    if cls is None:
        known = ", ".join(sorted(OcrBackend.registry)) or "none"
        raise OcrError(f"unknown OCR backend {name!r} (available: {known}); set recognition.ocr in config.json")
    return cls(**options)
