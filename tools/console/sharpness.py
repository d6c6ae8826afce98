"""Focus and exposure figures from a JPEG, for the aiming helper.

The sharpness score is the variance of the Laplacian of the plate region:
edges make the Laplacian swing, blur flattens it, so turning the lens through
focus makes the score rise to a peak and fall. Its value depends on the
scene; only the peak matters.
"""

from __future__ import annotations

import cv2
import numpy as np

from gateway.errors import AlprError


class FrameError(AlprError):
    """A frame that cannot be decoded or a region outside it."""


def decode(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise FrameError("the board sent a frame that is not a readable JPEG")
    return image


def parse_roi(text: str) -> tuple[int, int, int, int]:
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise FrameError(f"region {text!r}: give x,y,w,h in pixels, e.g. 200,150,240,80") from None
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        raise FrameError(f"region {text!r}: x and y from 0, width and height above 0")
    return x, y, w, h


def centre_third(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    return w // 3, h // 3, max(1, w // 3), max(1, h // 3)


def score(gray: np.ndarray, roi: tuple[int, int, int, int] | None = None) -> dict:
    """Sharpness (variance of the Laplacian), brightness and clipping of the region."""
    x, y, w, h = roi or centre_third(gray.shape)
    if x + w > gray.shape[1] or y + h > gray.shape[0]:
        raise FrameError(f"region {x},{y},{w},{h} lies outside the {gray.shape[1]}x"
                         f"{gray.shape[0]} frame")
    region = gray[y:y + h, x:x + w]
    lap = cv2.Laplacian(region, cv2.CV_64F)
    return {
        "roi": [x, y, w, h],
        "sharpness": round(float(lap.var()), 1),
        "brightness": round(float(region.mean()), 1),
        "clipped_pct": round(100.0 * float((region >= 250).mean()), 2),
        "width": int(gray.shape[1]),
        "height": int(gray.shape[0]),
    }
