"""The detector network's output grid as plates.

Per grid cell the network gives the share of the cell a plate covers (the
mask) and, for cells on a plate, the plate's log size, its centre relative
to the cell and its four corners relative to the centre
(models/detector/geometry.py). Each connected region of the mask above the
threshold is one plate, its geometry the mask-weighted average of its cells'
predictions. Every view of the frame the gateway runs the network on (the
base and fine passes, the closer look around one plate) decodes here.
"""

from __future__ import annotations

import cv2
import numpy as np

from gateway.recognition.boxes import iou
from gateway.recognition.detector import Detection


def decode(grid: np.ndarray, scale: float, stride: int, threshold: float, max_plates: int,
           frame_hw: tuple[int, int]) -> list[Detection]:
    """Plates from the output grid: connected regions of the plate mask, each averaging
    its cells' predictions of the plate's size, centre and corners (weighted by the mask)."""
    prob = np.ascontiguousarray(grid[..., 0])
    binary = (prob >= threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    fh, fw = frame_hw
    candidates = []
    for k in range(1, n):
        left, top, width, height = (int(v) for v in stats[k, :4])  # the region's cells only
        ys, xs = np.nonzero(labels[top : top + height, left : left + width] == k)
        ys, xs = ys + top, xs + left
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
    # one plate split into two regions gives two nearly equal boxes: keep the better
    return distinct(candidates, max_plates)


def distinct(detections: list[Detection], max_plates: int) -> list[Detection]:
    """The best-scored of each group of nearly equal boxes (IoU > 0.3), best first, at most max_plates."""
    found: list[Detection] = []
    for det in sorted(detections, key=lambda d: -d.score):
        if any(iou(det.box, d.box) > 0.3 for d in found):
            continue
        found.append(det)
        if len(found) >= max_plates:
            break
    return found
