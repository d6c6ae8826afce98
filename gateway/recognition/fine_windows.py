"""The fine pass on windows: the network at the fine scale only where the base pass saw a hint of a plate.

The fine pass (twice the base scale) is what finds distant plates, and on a
whole frame it costs about three times the base pass. But a plate the fine
pass finds is nearly always already a faint region of the base pass's mask:
on plates pasted at 46-60 px into 640 x 480 to 1920 x 1080 dash-camera
frames, every plate the whole fine pass found had a base mask of at least
HINT in its cells, against about 10 such regions per frame covering 3 % of
the grid. So the fine pass runs on fixed-size windows around those regions
(one small input, sized once), and on the whole frame only when the windows
would cover nearly as much.

A detection cut by a window's inner edge is dropped: the windows overlap by
OVERLAP fine-pass pixels, so a plate up to that wide lies whole in another
window; wider ones are the base pass's (`detector_tflite.FINE_TRUST_PX`).
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from gateway.recognition.detector import Detection
from gateway.recognition.litert import ImageModel
from gateway.recognition.mask_decode import decode, distinct

# In fine-pass pixels; one input size, so the runtime sizes it once. 224 x 128 windows (96 px
# of overlap) lost 46 px plates in 640 x 480 frames to their edges (found 91.5 -> 87.5 %).
WINDOW_W, WINDOW_H = 288, 160
OVERLAP = 128  # horizontal overlap of windows covering one wide region
OVERLAP_Y = 64
MARGIN = 32  # context around a region, in fine-pass pixels
HINT = 0.2  # a base-pass mask region this sure is worth a fine look
FULL_SHARE = 0.6  # windows covering more than this share of the whole fine pass: run it whole instead
EDGE_PX = 4  # a detection within this of an inner window edge is cut by it


def _starts(lo: float, hi: float, size: int, step: int, limit: int) -> list[int]:
    """Window origins covering [lo, hi) with windows of `size`, inside [0, limit)."""
    span = hi - lo
    n = max(1, math.ceil((span - size) / step) + 1) if span > size else 1
    first = lo + (span - (size + (n - 1) * step)) / 2  # centred on the span
    return [int(min(max(0, first + k * step), max(0, limit - size))) for k in range(n)]


class FineWindows:
    """The network at the fine scale on windows around the base pass's faint regions."""

    def __init__(self, model: Path, threads: int = 1, threshold: float = 0.4, stride: int = 4):
        self.net = ImageModel(model, threads)
        self.net.resize(WINDOW_H, WINDOW_W)
        self.threshold, self.stride = threshold, stride

    def plan(self, base_grid: np.ndarray, base_scale: float, fine_scale: float,
             frame_hw: tuple[int, int]) -> list[tuple[int, int]] | None:
        """Window origins in fine-pass pixels; None when the whole fine pass is cheaper."""
        fh, fw = frame_hw
        full_w, full_h = fw * fine_scale, fh * fine_scale
        binary = (base_grid[..., 0] >= HINT).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        k = self.stride * fine_scale / base_scale  # one base cell in fine-pass pixels
        origins: list[tuple[int, int]] = []
        # the largest regions first: a small one near them is then often inside a window already
        for left, top, width, height, _ in sorted(stats[1:n].tolist(), key=lambda r: -r[4]):
            x0, x1 = max(0.0, left * k - MARGIN), min(full_w, (left + width) * k + MARGIN)
            y0, y1 = max(0.0, top * k - MARGIN), min(full_h, (top + height) * k + MARGIN)
            if any(ox <= x0 and x1 <= ox + WINDOW_W and oy <= y0 and y1 <= oy + WINDOW_H for ox, oy in origins):
                continue
            for oy in _starts(y0, y1, WINDOW_H, WINDOW_H - OVERLAP_Y, int(full_h)):
                for ox in _starts(x0, x1, WINDOW_W, WINDOW_W - OVERLAP, int(full_w)):
                    if (ox, oy) not in origins:
                        origins.append((ox, oy))
            if len(origins) * WINDOW_W * WINDOW_H > FULL_SHARE * full_w * full_h:
                return None
        return origins

    def detect(self, frame_bgr: np.ndarray, origins: list[tuple[int, int]], fine_scale: float,
               max_plates: int) -> list[Detection]:
        fh, fw = frame_bgr.shape[:2]
        s = fine_scale
        found = []
        for ox, oy in origins:
            x0, y0 = int(ox / s), int(oy / s)
            x1, y1 = min(fw, int((ox + WINDOW_W) / s)), min(fh, int((oy + WINDOW_H) / s))
            region = frame_bgr[y0:y1, x0:x1]
            grid = self.net.run(self.net.fit(region, s))
            inner = (x0 > 0, y0 > 0, x1 < fw, y1 < fh)
            rh, rw = region.shape[:2]
            edge = EDGE_PX / s
            for det in decode(grid, s, self.stride, self.threshold, max_plates, region.shape[:2]):
                bx, by, bw, bh = det.box
                cut = ((inner[0] and bx <= edge) or (inner[1] and by <= edge)
                       or (inner[2] and bx + bw >= rw - edge) or (inner[3] and by + bh >= rh - edge))
                if not cut:
                    found.append(det.moved(x0, y0))
        return distinct(found, max_plates)  # the same plate in two overlapping windows is kept once
