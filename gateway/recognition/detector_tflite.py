"""The shipped plate detector (models/detector/detector.tflite) on the TFLite runtime.

The frame is letterboxed (scaled to fit, top-left, zero padding) to the
model's input size; the model predicts, per grid cell, whether it lies on a
plate, and for cells on a plate the plate's size, centre and four corners
(models/detector/geometry.py). Each connected region of cells above
`threshold` is one plate; overlapping results are merged.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from gateway.recognition.detector import Detection, DetectorBackend
from gateway.recognition.litert import interpreter

logger = logging.getLogger(__name__)

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "detector" / "detector.tflite"


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


class TfliteDetector(DetectorBackend):
    name = "tflite"

    def __init__(self, model: Path | str | None = None, threads: int = 1, threshold: float = 0.4,
                 max_plates: int = 16):
        self.model = Path(model) if model else DEFAULT_MODEL
        self.interp = interpreter(self.model, threads)
        inp = self.interp.get_input_details()[0]
        out = self.interp.get_output_details()[0]
        self._in, self._out = inp["index"], out["index"]
        self.in_h, self.in_w = int(inp["shape"][1]), int(inp["shape"][2])
        self.stride = self.in_w // int(out["shape"][2])
        self.threshold = threshold
        self.max_plates = max_plates
        self._canvas = np.zeros((1, self.in_h, self.in_w, 3), np.float32)

    def raw(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, float]:
        """The model's output grid for a frame, and the letterbox scale."""
        h, w = frame_bgr.shape[:2]
        s = min(self.in_w / w, self.in_h / h)
        nw, nh = max(1, round(w * s)), max(1, round(h * s))
        small = cv2.resize(frame_bgr, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        self._canvas[:] = 0
        self._canvas[0, :nh, :nw] = small
        self.interp.set_tensor(self._in, self._canvas)
        self.interp.invoke()
        return self.interp.get_tensor(self._out)[0], s

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        if frame_bgr is None or frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
            raise ValueError("the detector needs a BGR colour image")
        grid, s = self.raw(frame_bgr)
        return decode(grid, s, self.stride, self.threshold, self.max_plates, frame_bgr.shape[:2])


def decode(grid: np.ndarray, scale: float, stride: int, threshold: float, max_plates: int,
           frame_hw: tuple[int, int]) -> list[Detection]:
    """Plates from the output grid: connected regions of the plate mask, each averaging
    its cells' predictions of the plate's size, centre and corners (weighted by the mask)."""
    prob = np.ascontiguousarray(grid[..., 0])
    binary = (prob >= threshold).astype(np.uint8)
    n, labels, _stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    fh, fw = frame_hw
    candidates = []
    for k in range(1, n):
        ys, xs = np.nonzero(labels == k)
        wts = prob[ys, xs]
        cells = grid[ys, xs]
        total = float(wts.sum())
        lw, lh = (cells[:, 1:3] * wts[:, None]).sum(axis=0) / total
        bw, bh = float(np.exp(np.clip(lw, -4, 6)) * stride), float(np.exp(np.clip(lh, -4, 6)) * stride)
        cx = float((((xs + 0.5) * stride + cells[:, 3] * bw) * wts).sum() / total)
        cy = float((((ys + 0.5) * stride + cells[:, 4] * bh) * wts).sum() / total)
        rel = (cells[:, 5:13] * wts[:, None]).sum(axis=0) / total
        corners = (np.array([cx, cy]) + rel.reshape(4, 2) * [bw, bh]) / scale
        cx, cy, bw, bh = cx / scale, cy / scale, bw / scale, bh / scale
        x0, y0 = max(0.0, cx - bw / 2), max(0.0, cy - bh / 2)
        x1, y1 = min(float(fw), cx + bw / 2), min(float(fh), cy + bh / 2)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        box = (int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0)))
        corners[:, 0] = np.clip(corners[:, 0], 0, fw - 1)
        corners[:, 1] = np.clip(corners[:, 1], 0, fh - 1)
        candidates.append(Detection(box, float(wts.max()), corners.astype(np.float32)))
    found: list[Detection] = []
    for det in sorted(candidates, key=lambda d: -d.score):
        # One plate split into two regions gives two nearly equal boxes: keep the better.
        if any(iou(det.box, d.box) > 0.3 for d in found):
            continue
        found.append(det)
        if len(found) >= max_plates:
            break
    return found
