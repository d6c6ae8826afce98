"""The shipped plate detector (models/detector/detector.tflite) on the TFLite runtime.

The model predicts, per grid cell, whether it lies on a plate, and for cells
on a plate the plate's size, centre and four corners
(models/detector/geometry.py); `mask_decode` turns that grid into plates.

The network is fully convolutional and the file takes any input size, so it
runs in two passes over each frame:

- the *base* pass sees the frame letterboxed into BASE_W x BASE_H, as it
  was trained: large and middle-sized plates;
- the *fine* pass sees it FINE_SCALE times larger, within FINE_MAX_PIXELS
  (1182 x 665 for a 1280 x 720 or a 1920 x 1080 frame, 1024 x 768 for
  640 x 480): a plate 60 pixels wide in a 1920-wide frame is 20 pixels to
  the base pass, below what the network finds reliably, and 37 to the fine
  one.

The fine pass runs on small windows around the regions where the base
pass's mask shows a faint plate (`fine_windows.py`), and on the whole frame
only when those windows would cover most of it: 13-16 ms a frame less on
dash-camera frames, and it found as many small plates.

Each pass trusts its own size range: a plate the fine pass sees at most
FINE_TRUST_PX wide comes from it (its box is the more precise), a larger one
from the base pass, whose view of a large plate is the one it was trained on.
A model file with a fixed input size (older exports) runs the base pass only,
and has no closer look (`closer_look.py`: the network again on a small window
around one plate, which the recognizer asks for when a reading is unsure).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from gateway.recognition.boxes import area, covered, iou
from gateway.recognition.closer_look import CloserLook
from gateway.recognition.detector import Detection, DetectorBackend
from gateway.recognition.fine_windows import FineWindows
from gateway.recognition.litert import ImageModel
from gateway.recognition.mask_decode import decode

logger = logging.getLogger(__name__)

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "detector" / "detector.tflite"
BASE_W, BASE_H = 640, 384  # the letterbox the network was trained on
# The fine pass, chosen on every fourth training scene of the real sets and on small plates
# pasted into large frames (models/detector/README.md): a scale of 1.5 found fewer small
# plates; trusting its boxes only up to 100 px lost middle-sized plates to the base pass's
# coarser boxes, up to 200 px lost large ones to its narrow boxes.
FINE_SCALE = 2.0
FINE_MAX_PIXELS = 1024 * 768  # keeps the fine pass near 20 ms on one core at any frame size
FINE_TRUST_PX = 140
FRAGMENT_AREA = 2.5  # a fine detection inside a base one this many times its area is a piece of it


class _Pass:
    """The network over a frame at one scale, its input sized once per frame size."""

    def __init__(self, model: Path, threads: int, factor: float = 1.0, max_pixels: int | None = None):
        self.net = ImageModel(model, threads)
        self.dynamic = self.net.dynamic
        self.factor, self.max_pixels = factor, max_pixels
        self._frame_hw: tuple[int, int] | None = None
        self.stride = 4 if self.dynamic else self.in_w // self.net.output_shape[2]
        self.scale = 1.0  # the last frame's scale in this pass

    # the network's input; a file for any size reports the letterbox it was trained on until
    # the first frame sizes it
    @property
    def in_w(self) -> int:
        return BASE_W if self.dynamic and self._frame_hw is None else self.net.input_shape[2]

    @property
    def in_h(self) -> int:
        return BASE_H if self.dynamic and self._frame_hw is None else self.net.input_shape[1]

    def _size_for(self, h: int, w: int) -> None:
        """Scale and input size for a frame size (a board's frames keep theirs, so this runs once)."""
        self._frame_hw = (h, w)
        if not self.dynamic:
            self.scale = min(self.in_w / w, self.in_h / h)
            return
        s = self.factor * min(BASE_W / w, BASE_H / h)
        if self.max_pixels:
            s = min(s, math.sqrt(self.max_pixels / (w * h)))
        self.scale = s
        # an input just large enough (multiples of 32) for the scaled frame: no time spent on padding
        self.net.resize(32 * math.ceil(h * s / 32), 32 * math.ceil(w * s / 32))

    def run(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, float]:
        """The output grid for a frame, and the frame's scale in this pass."""
        return self.net.run(self.scaled(frame_bgr)), self.scale

    def scale_for(self, frame_hw: tuple[int, int]) -> float:
        """A frame's scale in this pass, without running it (the windows need it)."""
        if frame_hw != self._frame_hw:
            self._size_for(*frame_hw)
        return self.scale

    def scaled(self, frame_bgr: np.ndarray) -> np.ndarray:
        """The frame as this pass sees it, before the zero padding up to its input size."""
        return self.net.fit(frame_bgr, self.scale_for(frame_bgr.shape[:2]))


class TfliteDetector(DetectorBackend):
    name = "tflite"

    def __init__(self, model: Path | str | None = None, threads: int = 1, threshold: float = 0.4,
                 max_plates: int = 16, fine_pass: bool = True, fine_windows: bool = True):
        self.model = Path(model) if model else DEFAULT_MODEL
        self.threshold = threshold
        self.max_plates = max_plates
        base = _Pass(self.model, threads)
        self.passes = [base]
        self.problems: list[str] = []
        if fine_pass and base.dynamic:
            self.passes.append(_Pass(self.model, threads, FINE_SCALE, FINE_MAX_PIXELS))
        elif fine_pass:
            self.problems.append(f"{self.model.name} has a fixed input size: only the base pass runs (small "
                                 "plates are missed); re-export it with python -m models.detector.train "
                                 "--export-only")
            logger.warning("%s", self.problems[-1])
        self.closer = CloserLook(self.model, threads, threshold, base.stride) if base.dynamic else None
        # fine_windows=False runs the fine pass on the whole frame always (for comparison)
        self.windows = (FineWindows(self.model, threads, threshold, base.stride)
                        if fine_windows and len(self.passes) > 1 else None)

    # the base pass's input and grid (its input follows the frame size; these never go stale)
    @property
    def in_w(self) -> int:
        return self.passes[0].in_w

    @property
    def in_h(self) -> int:
        return self.passes[0].in_h

    @property
    def stride(self) -> int:
        return self.passes[0].stride

    def raw(self, frame_bgr: np.ndarray, pass_index: int = 0) -> tuple[np.ndarray, float]:
        """One pass's output grid for a frame, and the frame's scale in that pass."""
        return self.passes[pass_index].run(frame_bgr)

    def describe(self) -> dict:
        return {**super().describe(), "model": self.model.name, "fine_pass": len(self.passes) > 1}

    def seen_width(self, det: Detection) -> float:
        return det.box[2] * self.passes[-1].scale

    def look_closer(self, frame_bgr: np.ndarray, det: Detection) -> Detection | None:
        return self.closer.around(frame_bgr, det) if self.closer else None

    def look_inside(self, frame_bgr: np.ndarray, det: Detection) -> Detection | None:
        return self.closer.inside(frame_bgr, det) if self.closer else None

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        if frame_bgr is None or frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise ValueError("the detector needs a BGR colour image")
        hw = frame_bgr.shape[:2]
        grid, s = self.passes[0].run(frame_bgr)
        per_pass = [(decode(grid, s, self.stride, self.threshold, self.max_plates, hw), s)]
        if len(self.passes) == 1:
            return per_pass[0][0]
        fine = self.passes[1]
        fs = fine.scale_for(hw)
        origins = self.windows.plan(grid, s, fs, hw) if self.windows is not None else None
        if origins is None:
            fgrid, fs = fine.run(frame_bgr)
            per_pass.append((decode(fgrid, fs, self.stride, self.threshold, self.max_plates, hw), fs))
        else:
            per_pass.append((self.windows.detect(frame_bgr, origins, fs, self.max_plates), fs))
        return merge_passes(per_pass, self.max_plates)


def merge_passes(per_pass: list[tuple[list[Detection], float]], max_plates: int) -> list[Detection]:
    """One detection per plate from the passes' (detections, scale), base pass first.

    A fine pass's detection up to FINE_TRUST_PX wide (in its own pixels) wins an
    overlap, then the base pass's, then a fine pass's larger ones; the same plate
    seen by two passes, or a piece of it inside another's box, is kept once. A
    fine detection well inside a much larger base one that is beyond the fine
    pass's trusted sizes is a piece of that plate (the fine pass sees a large
    plate at twice the size it was trained on); a small plate's base box, often
    twice too large, does not count. Such a piece is kept as the large
    detection's `inner`: a small plate's base box can be too large by more than
    that, and then the "piece" is the plate itself; the recognizer reads both.
    The best-ranked box that lost an overlap is kept as the winner's
    `alternative`: a piece of a large plate can still win (one under
    FRAGMENT_AREA times smaller than the base box), and reads nothing.
    """
    ranked = []
    for k, (dets, s) in enumerate(per_pass):
        # plates the base pass sees too large for this pass to be trusted on
        large = [b for b in per_pass[0][0] if b.box[2] * s > FINE_TRUST_PX] if k > 0 else []
        for det in dets:
            whole = next((b for b in large if covered(det.box, b.box) > 0.6
                          and area(b.box) > FRAGMENT_AREA * area(det.box)), None)
            if whole is not None:
                # a piece of a large plate that the base pass sees whole, or a small plate whose
                # base box is far too large: the recognizer reads both and keeps the better reading
                if whole.inner is None or det.score > whole.inner.score:
                    whole.inner = det
                continue
            tier = 1 if k == 0 else 0 if det.box[2] * s <= FINE_TRUST_PX else 2
            ranked.append(((tier, -det.score), det))
    found: list[Detection] = []
    for _, det in sorted(ranked, key=lambda r: r[0]):
        same = next((d for d in found if iou(det.box, d.box) > 0.3 or covered(det.box, d.box) > 0.6
                     or covered(d.box, det.box) > 0.6), None)
        if same is not None:
            if same.alternative is None:
                same.alternative = det
            continue
        found.append(det)
        if len(found) >= max_plates:
            break
    return found
