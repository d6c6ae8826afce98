"""Cutting a plate out of a frame: straightened when its corners are known.

With the detector's four corners the plate is warped to a flat rectangle
(yaw, tilt and perspective undone), with a small margin so that characters
touching the plate's edge are not cut. Without usable corners the box is
cropped with the same margin.
"""

from __future__ import annotations

import cv2
import numpy as np

MARGIN = 0.06  # of the plate's width and height, on each side


def quad_ok(corners: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """Corners that form a convex quad of a plausible size for the box."""
    if corners is None or corners.shape != (4, 2) or not np.all(np.isfinite(corners)):
        return False
    if not cv2.isContourConvex(corners.astype(np.float32).reshape(-1, 1, 2)):
        return False
    area = cv2.contourArea(corners.astype(np.float32))
    return 0.3 * box[2] * box[3] <= area <= 1.6 * box[2] * box[3]


def crop_box(frame: np.ndarray, box: tuple[int, int, int, int], margin: float = MARGIN,
             pad: bool = False) -> np.ndarray:
    """The box with `margin` around it, clipped to the frame; with `pad`, what lies beyond the
    frame's edge is filled with the edge's pixels, so that the box always sits at the same place
    in the crop (the recognizer maps the OCR's character positions back to the frame)."""
    x, y, w, h = box
    mx, my = int(round(w * margin)) + 1, int(round(h * margin)) + 1
    fh, fw = frame.shape[:2]
    x0, y0 = max(0, x - mx), max(0, y - my)
    x1, y1 = min(fw, x + w + mx), min(fh, y + h + my)
    crop = frame[y0:y1, x0:x1].copy()
    if pad and crop.size:
        top, bottom = y0 - (y - my), (y + h + my) - y1
        left, right = x0 - (x - mx), (x + w + mx) - x1
        if top or bottom or left or right:
            crop = cv2.copyMakeBorder(crop, max(0, top), max(0, bottom), max(0, left), max(0, right),
                                      cv2.BORDER_REPLICATE)
    return crop


def rectify(frame: np.ndarray, box: tuple[int, int, int, int], corners: np.ndarray | None = None,
            margin: float = MARGIN) -> np.ndarray:
    """The plate as an upright image (BGR), at about its size in the frame, with `margin` all
    round it even at the frame's edge (filled with the edge's pixels, as the warp does)."""
    if not quad_ok(corners, box):
        return crop_box(frame, box, margin, pad=True)
    tl, tr, br, bl = corners.astype(np.float32)
    w = max(8.0, (np.linalg.norm(tr - tl) + np.linalg.norm(br - bl)) / 2)
    h = max(4.0, (np.linalg.norm(bl - tl) + np.linalg.norm(br - tr)) / 2)
    mx, my = w * margin, h * margin
    dst = np.array([[mx, my], [mx + w, my], [mx + w, my + h], [mx, my + h]], np.float32)
    matrix = cv2.getPerspectiveTransform(np.array([tl, tr, br, bl]), dst)
    size = (int(round(w + 2 * mx)), int(round(h + 2 * my)))
    return cv2.warpPerspective(frame, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
