"""What a car-mounted camera and a plate detector do to a clean plate.

`camera_view(rng, plate_bgr)` returns the plate as the OCR sees it: set on a
car body (sometimes in a dealer frame), seen in perspective, cut out with a
small random margin, lit (glare, shadow, dirt, night infrared), blurred or
motion-blurred, shrunk to as little as ~55 pixels wide, noisy and JPEG
compressed. `ocr_sample(rng)` draws a plate and its camera view in one call.

Only numpy and OpenCV are used.
"""

from __future__ import annotations

import cv2
import numpy as np

from models.draws import log_uniform
from models.synth.plates import render_plate


def _surround(rng, plate: np.ndarray, pad: int) -> np.ndarray:
    """The plate on a car body: paint, bumper, sometimes a plate frame."""
    h, w = plate.shape[:2]
    H, W = h + 2 * pad, w + 2 * pad
    grey = rng.uniform(10, 230)
    paint = np.clip(grey + rng.normal(0, 30, 3), 0, 255).astype(np.float32)  # cars are mostly muted
    canvas = np.empty((H, W, 3), np.float32)
    canvas[:] = paint
    yy = np.linspace(-1, 1, H, dtype=np.float32)[:, None, None]
    canvas *= 1 + yy * rng.uniform(-0.3, 0.3)
    # smooth blotches: coarse noise scaled up is as good as a wide blur and far cheaper
    coarse = rng.normal(0, 1, (max(2, H // 16), max(2, W // 16))).astype(np.float32)
    canvas += cv2.resize(coarse, (W, H), interpolation=cv2.INTER_CUBIC)[:, :, None] * 12
    if rng.random() < 0.4:  # dark recess or bumper edge
        y = int(rng.uniform(0.6, 1.0) * H)
        canvas[y:] *= rng.uniform(0.2, 0.6)
    canvas[pad : pad + h, pad : pad + w] = plate
    if rng.random() < 0.3:  # a dealer frame that covers the plate's edges
        t = int(rng.uniform(0.03, 0.08) * h)
        tb = int(rng.uniform(0.05, 0.14) * h)
        frame = rng.integers(0, 80, 3).tolist() if rng.random() < 0.7 else rng.integers(150, 230, 3).tolist()
        cv2.rectangle(canvas, (pad - t, pad - t), (pad + w + t, pad + h + t), frame, 2 * t)
        cv2.rectangle(canvas, (pad - t, pad + h - tb), (pad + w + t, pad + h + t), frame, -1)
    return canvas


def _lighting(rng, img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    if rng.random() < 0.3:  # shadow across part of the plate
        mask = np.zeros((h, w), np.float32)
        pts = rng.uniform([0, 0], [w, h], (4, 2)).astype(np.int32)
        pts[:2, 1] = rng.choice([0, h], 1)[0]
        cv2.fillPoly(mask, [cv2.convexHull(pts)], 1.0)
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(1, 8))
        img = img * (1 - mask[:, :, None] * rng.uniform(0.25, 0.6))
    if rng.random() < 0.2:  # glare: a bright soft spot
        mask = np.zeros((h, w), np.float32)
        c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        cv2.ellipse(mask, c, (int(rng.uniform(0.1, 0.5) * w), int(rng.uniform(0.1, 0.5) * h)),
                    float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), rng.uniform(5, 20))
        img = img + mask[:, :, None] * rng.uniform(60, 200)
    if rng.random() < 0.25:  # dirt and spots
        n = int(rng.integers(5, 60))
        dirt = np.zeros((h, w), np.float32)
        for _ in range(n):
            cv2.circle(dirt, (int(rng.uniform(0, w)), int(rng.uniform(0, h))), int(rng.integers(1, 6)), 1.0, -1)
        dirt = cv2.GaussianBlur(dirt, (0, 0), rng.uniform(0.5, 3))
        img = img * (1 - dirt[:, :, None] * rng.uniform(0.2, 0.6)) + dirt[:, :, None] * rng.uniform(0, 40)
    gain, bias = rng.uniform(0.65, 1.2), rng.uniform(-30, 25)
    img = img * gain + bias
    return img


def _infrared(rng, img: np.ndarray) -> np.ndarray:
    """Night IR: monochrome, retroreflective background near white, dark characters."""
    gray = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float32)
    mid, slope = np.percentile(gray, rng.uniform(25, 50)), rng.uniform(0.04, 0.12)
    gray = 255.0 / (1.0 + np.exp(-(gray - mid) * slope))
    return np.repeat(gray[:, :, None], 3, axis=2)


def _motion_kernel(rng) -> np.ndarray:
    k = int(rng.integers(3, 9))
    kernel = np.zeros((k, k), np.float32)
    kernel[k // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(-30, 30)), 1.0)
    kernel = cv2.warpAffine(kernel, rot, (k, k))
    return kernel / max(kernel.sum(), 1e-6)


# Plate widths in pixels a camera view is drawn from (log-uniform, median near 135)
VIEW_WIDTHS = (55, 330)


def camera_view(rng: np.random.Generator, plate: np.ndarray, width: int | None = None,
                widths: tuple[int, int] | None = None) -> np.ndarray:
    """The plate as a detector would cut it from a camera frame (BGR uint8).

    `width` fixes the plate's width in pixels of the output; by default it
    is drawn log-uniformly from `widths` (default VIEW_WIDTHS).
    """
    low, high = widths or VIEW_WIDTHS
    h, w = plate.shape[:2]
    pad = int(0.35 * h)
    canvas = _surround(rng, plate.astype(np.float32), pad)
    # perspective: jitter the plate's corners, then cut its box plus a margin
    corners = np.float32([[pad, pad], [pad + w, pad], [pad + w, pad + h], [pad, pad + h]])
    jitter = rng.normal(0, 1, (4, 2)).astype(np.float32) * np.float32([w, h]) * rng.uniform(0.0, 0.05)
    angle = np.deg2rad(rng.normal(0, 3))
    rot = np.float32([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    center = corners.mean(0)
    dst = (corners - center) @ rot.T + center + jitter
    M = cv2.getPerspectiveTransform(corners, dst)
    warped = cv2.warpPerspective(canvas, M, (canvas.shape[1], canvas.shape[0]), borderMode=cv2.BORDER_REFLECT)
    x0, y0 = dst.min(0)
    x1, y1 = dst.max(0)
    # mostly tight (as the us-crops are), sometimes the detector's looser cut
    mx = rng.uniform(-0.02, 0.06) * w if rng.random() < 0.75 else rng.uniform(0.05, 0.2) * w
    my = rng.uniform(-0.03, 0.08) * h if rng.random() < 0.75 else rng.uniform(0.08, 0.35) * h
    xa, xb = int(max(0, x0 - mx * rng.uniform(0.5, 1.5))), int(min(warped.shape[1], x1 + mx * rng.uniform(0.5, 1.5)))
    ya, yb = int(max(0, y0 - my * rng.uniform(0.5, 1.5))), int(min(warped.shape[0], y1 + my * rng.uniform(0.5, 1.5)))
    img = warped[ya:yb, xa:xb]

    img = _lighting(rng, img)
    if rng.random() < 0.12:
        img = _infrared(rng, img)
    if rng.random() < 0.25:
        img = cv2.filter2D(img, -1, _motion_kernel(rng))
    # shrink: the plate's own width decides the scale
    target = width or int(log_uniform(rng, low, high))
    scale = min(1.0, target / (x1 - x0))
    out_w, out_h = max(8, int(img.shape[1] * scale)), max(6, int(img.shape[0] * scale))
    if rng.random() < 0.4:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.6) / max(scale, 0.2))
    img = cv2.resize(img, (out_w, out_h), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.0))
    if rng.random() < 0.5:
        img = img + rng.normal(0, rng.uniform(2, 10), img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.7:
        q = int(rng.integers(20, 95))
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
        if ok:
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return img


def ocr_sample(rng: np.random.Generator, text: str | None = None, style: dict | None = None,
               widths: tuple[int, int] | None = None):
    """One training sample: (camera-view crop BGR, label, meta); `widths` as in `camera_view`."""
    plate, label, meta = render_plate(rng, text, style)
    return camera_view(rng, plate, widths=widths), label, meta
