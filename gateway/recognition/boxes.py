"""Overlap of (x, y, w, h) boxes: used by the detector's merging and the scene evaluation.

Plain Python, no OpenCV, so that importing it costs nothing.
"""

from __future__ import annotations


def _intersection(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    return iw * ih


def area(box) -> float:
    return float(box[2] * box[3])


def iou(a, b) -> float:
    inter = _intersection(a, b)
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def covered(a, b) -> float:
    """The share of box a that lies inside box b."""
    return _intersection(a, b) / max(1.0, area(a))
