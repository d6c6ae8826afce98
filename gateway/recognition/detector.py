"""Plate detectors: a small abstract backend and a registry of runtimes.

A backend takes a whole frame (BGR, any size) and returns the plates in it as
`Detection`s in frame pixels, best first. Each runtime lives in its own
module (`detector_tflite`, ...) and registers its subclass under a name;
`create(name, ...)` imports the runtime modules it knows and logs, rather
than fails on, one that cannot be imported, so a missing optional runtime
never takes the others down.
"""

from __future__ import annotations

import importlib
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from gateway.errors import AlprError

logger = logging.getLogger(__name__)

RUNTIME_MODULES = ("gateway.recognition.detector_tflite",)


class DetectorError(AlprError):
    """The detector model is missing, unreadable, or asked for under an unknown name."""


@dataclass
class Detection:
    box: tuple[int, int, int, int]  # x, y, w, h in frame pixels
    score: float
    corners: np.ndarray | None = None  # (4, 2) TL, TR, BR, BL in frame pixels, when the model gives them

    def to_json(self) -> dict:
        out = {"box": list(self.box), "score": round(float(self.score), 4)}
        if self.corners is not None:
            out["corners"] = [[round(float(x), 1), round(float(y), 1)] for x, y in self.corners]
        return out


class DetectorBackend(ABC):
    name: str = ""
    registry: dict[str, type[DetectorBackend]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # only a class that names itself: a subclass of a backend (a test's, a tool's) inherits
        # the name and would otherwise take the backend's place in the registry
        if cls.__dict__.get("name"):
            DetectorBackend.registry[cls.name] = cls

    @abstractmethod
    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """Every plate in the frame, best first."""

    def seen_width(self, det: Detection) -> float:
        """How wide the backend saw `det`'s plate, in the pixels of its finest view of the last
        frame (below some width its boxes are rough). By default, the box's width."""
        return float(det.box[2])

    def look_closer(self, frame_bgr: np.ndarray, det: Detection) -> Detection | None:
        """`det`'s plate seen again at the size the backend finds best (a better box), or None
        where the backend cannot look again or finds no plate there."""
        return None


def _load_runtimes() -> None:
    for module in RUNTIME_MODULES:
        try:
            importlib.import_module(module)
        except Exception as exc:  # noqa: BLE001 - one broken runtime must not hide the others
            logger.warning("detector runtime %s not available: %s", module, exc)


def create(name: str = "tflite", **options) -> DetectorBackend:
    _load_runtimes()
    cls = DetectorBackend.registry.get(name)
    if cls is None:
        known = ", ".join(sorted(DetectorBackend.registry)) or "none"
        raise DetectorError(f"unknown detector backend {name!r} (available: {known}); "
                            "set recognition.detector in config.json")
    return cls(**options)
