"""A closer look at one plate: the detector again, on a small window around it.

A whole-frame pass sees each plate at whatever size the frame gives it, and
the network's boxes are only good within the sizes it finds best (about 60
to 140 pixels wide in its input). Outside that range a box is often shifted
or too narrow (characters cut off the crop) or too wide (a dealer's frame
read with the plate). The closer look cuts a window SPAN times the box
around the plate, scales it so that the box is TARGET_PX wide, and runs the
same network on it: one small, fixed-size input (WINDOW_W x WINDOW_H, about
a sixth of the base pass): about 2 ms per plate on the gateway's machine,
3.5 ms with the plate's second reading.

Chosen on every fourth training scene of the real sets and on us-speed
photos scaled to 640 and 960 pixels wide (models/detector/README.md): a
target of 80 or 120 px and windows of 1.6 or 2.5 times the box read fewer
plates.

A look *inside* a box (`inside`) is for a box that took in the plate's
surroundings (a light bar, a dealer frame, a dark recess): the closer look
scales by the box, so it sees such a plate as small as the first pass did.
Inside, the window is scaled as if the plate were half the box's width and
takes the best plate well within the box and narrower than it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gateway.recognition.boxes import covered, iou
from gateway.recognition.detector import Detection
from gateway.recognition.litert import ImageModel
from gateway.recognition.mask_decode import decode

WINDOW_W, WINDOW_H = 256, 160
TARGET_PX = 100  # the plate's box width in the window
SPAN = 2.0  # the window's size in boxes, so that a box that cut the plate still has all of it inside
MIN_ASPECT = 0.6  # the window's height at least this share of its width: room above and below
SAME_PLATE_IOU = 0.3  # the window's detection nearest the box must overlap it this much
INSIDE_ZOOM = 2.0  # looking inside, the plate is taken for 1 / INSIDE_ZOOM of the box's width
INSIDE_COVERED = 0.6  # a plate found inside lies at least this much within the box
INSIDE_NARROWER = 0.85  # and is at most this share of its width (else it is the box again)


class CloserLook:
    """The network over a window around one detection, its input sized once."""

    def __init__(self, model: Path, threads: int = 1, threshold: float = 0.4, stride: int = 4):
        self.net = ImageModel(model, threads)
        self.net.resize(WINDOW_H, WINDOW_W)
        self.threshold, self.stride = threshold, stride

    def window(self, box: tuple[int, int, int, int], frame_hw: tuple[int, int]) -> tuple[int, int, int, int, float]:
        """The frame region (x0, y0, x1, y1) to look at around `box`, and its scale into the canvas."""
        x, y, w, h = box
        s = TARGET_PX / max(w, 8)
        rw = min(SPAN * w, WINDOW_W / s)
        rh = min(max(SPAN * h, MIN_ASPECT * rw), WINDOW_H / s)
        if rh < 1.3 * h:  # a box taller than the window allows at this scale: see it whole, smaller
            s = WINDOW_H / (1.6 * h)
            rw, rh = min(SPAN * w, WINDOW_W / s), min(1.6 * h, WINDOW_H / s)
        return (*_centred(x + w / 2, y + h / 2, rw, rh, frame_hw), s)

    def _plates(self, frame_bgr: np.ndarray, region: tuple[int, int, int, int], s: float) -> list[Detection]:
        """The plates the network finds in the frame's `region` (x0, y0, x1, y1) scaled by `s`,
        in the region's pixels."""
        x0, y0, x1, y1 = region
        if x1 - x0 < 2 or y1 - y0 < 2:
            return []
        pixels = frame_bgr[y0:y1, x0:x1]
        grid = self.net.run(self.net.fit(pixels, s))
        return decode(grid, s, self.stride, self.threshold, 4, pixels.shape[:2])

    def around(self, frame_bgr: np.ndarray, det: Detection) -> Detection | None:
        """The plate of `det` as the network sees it at its best size; None if it finds none there."""
        x0, y0, x1, y1, s = self.window(det.box, frame_bgr.shape[:2])
        local = (det.box[0] - x0, det.box[1] - y0, det.box[2], det.box[3])
        found = self._plates(frame_bgr, (x0, y0, x1, y1), s)
        best = max(found, key=lambda d: iou(d.box, local), default=None)
        if best is None or iou(best.box, local) < SAME_PLATE_IOU:
            return None
        return best.moved(x0, y0, det.score)

    def inside(self, frame_bgr: np.ndarray, det: Detection) -> Detection | None:
        """A plate about half as wide as `det`'s box, within it; None if the network finds none."""
        x, y, w, h = det.box
        s = INSIDE_ZOOM * TARGET_PX / max(w, 8)
        # the whole canvas at this scale: about 1.3 times the box's width, 0.8 of it high
        x0, y0, x1, y1 = _centred(x + w / 2, y + h / 2, WINDOW_W / s, WINDOW_H / s, frame_bgr.shape[:2])
        local = (x - x0, y - y0, w, h)
        found = [d for d in self._plates(frame_bgr, (x0, y0, x1, y1), s)
                 if covered(d.box, local) > INSIDE_COVERED and d.box[2] < INSIDE_NARROWER * w]
        best = max(found, key=lambda d: d.score, default=None)
        return best.moved(x0, y0, det.score) if best is not None else None


def _centred(cx: float, cy: float, rw: float, rh: float, frame_hw: tuple[int, int]) -> tuple[int, int, int, int]:
    """The region (x0, y0, x1, y1) rw x rh centred on (cx, cy), cut to the frame."""
    fh, fw = frame_hw
    x0, y0 = int(max(0, cx - rw / 2)), int(max(0, cy - rh / 2))
    x1, y1 = int(min(fw, cx + rw / 2)), int(min(fh, cy + rh / 2))
    return x0, y0, x1, y1
