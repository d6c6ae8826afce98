"""Plate detectors: a small abstract backend and a registry of runtimes.

A backend takes a whole frame (BGR, any size) and returns the plates in it as
`Detection`s in frame pixels, best first. Each runtime lives in its own
module (`detector_tflite`, ...) and registers its subclass under a name;
`create(name, ...)` finds it (`backends.Registry`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from gateway.errors import AlprError
from gateway.recognition.backends import Backend, Registry


class DetectorError(AlprError):
    """The detector model is missing, unreadable, or asked for under an unknown name."""


REGISTRY = Registry("detector", ("gateway.recognition.detector_tflite",), DetectorError, "recognition.detector")


@dataclass
class Detection:
    box: tuple[int, int, int, int]  # x, y, w, h in frame pixels
    score: float
    corners: np.ndarray | None = None  # (4, 2) TL, TR, BR, BL in frame pixels, when the model gives them
    # A smaller plate seen inside this box that the backend took for a piece of this plate; the
    # recognizer reads it too and keeps the better reading (the box may be a small plate's, too large)
    inner: Detection | None = None
    # The same plate as another pass saw it, whose box this one's won over (`merge_passes`); the
    # recognizer reads it where this box's reading fails (a piece of a large plate can win)
    alternative: Detection | None = None

    def moved(self, dx: int, dy: int, score: float | None = None) -> Detection:
        """The same plate found in a region whose top-left is (dx, dy) of the frame, in frame pixels."""
        x, y, w, h = self.box
        corners = self.corners + np.float32([dx, dy]) if self.corners is not None else None
        return Detection((x + dx, y + dy, w, h), self.score if score is None else score, corners)

    def to_json(self) -> dict:
        out = {"box": list(self.box), "score": round(float(self.score), 4)}
        if self.corners is not None:
            out["corners"] = [[round(float(x), 1), round(float(y), 1)] for x, y in self.corners]
        return out


class DetectorBackend(Backend, ABC):
    """Constructed by `create(name, threads=..., fine_pass=...)` with at least those keywords;
    a backend that sees each frame only once ignores `fine_pass`."""

    registry = REGISTRY

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

    def look_inside(self, frame_bgr: np.ndarray, det: Detection) -> Detection | None:
        """A plate well inside `det`'s box, seen as if it were half the box's width (the box
        took in the plate's surroundings), or None where the backend cannot look or finds none."""
        return None


def create(name: str = "tflite", **options) -> DetectorBackend:
    return REGISTRY.create(name, **options)
