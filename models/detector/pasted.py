"""Detector training scenes with real US plates made small: the us-crops training split pasted.

The real scenes teach the detector mostly Brazilian and European plates, and
mostly near ones; the plates it misses in the car are distant US ones. Here
each us-crops training-split crop (`models.ocr.data.real_split`) goes over
the US-shaped plate of a training-split photo (kaggle-cars, open-images), is
made a drawn width (log-uniform in `widths`) together with the rear of its
vehicle and pasted into a dash-camera training frame of a drawn size
(`models.synth.paste`), and goes through JPEG as a camera board sends it.
The frame's labels are the pasted plate and the background's own labelled
plates that the pasted vehicle leaves mostly uncovered. Only training splits are
used, so the held-out stand-ins of `alpr eval distant --plates` stay unseen.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from gateway.recognition.boxes import covered
from models.detector.data import STORE_ZOOM, Sample, to_letterbox_scale
from models.synth.paste import distant_frame
from models.synth.paste_sources import FRAME_SIZES, paste_sources

logger = logging.getLogger(__name__)

SOURCE = "pasted-us"
COVERED = 0.3  # a background plate this much inside the pasted vehicle's region is no longer labelled


def _visible(boxes: np.ndarray, region) -> np.ndarray:
    """The boxes less than COVERED inside `region` (x, y, w, h)."""
    return boxes[[covered(b, region) < COVERED for b in boxes]] if len(boxes) else boxes


def pasted_scene(rng: np.random.Generator, crop: np.ndarray, text: str, photo: np.ndarray, box,
                 background: np.ndarray, background_boxes: np.ndarray,
                 widths: tuple[float, float]) -> Sample:
    """One frame with `crop` on `photo`'s plate, small in `background`, at the detector's stored scale."""
    fw, fh = FRAME_SIZES[int(rng.integers(0, len(FRAME_SIZES)))]
    bh, bw = background.shape[:2]
    frame, plate, region = distant_frame(rng, crop, photo, box, background, (fw, fh), widths)
    back_boxes = background_boxes * np.array([fw / bw, fh / bh, fw / bw, fh / bh], np.float32)
    boxes = np.concatenate([np.array([plate], np.float32), _visible(back_boxes, region)])
    img, boxes, zoom = to_letterbox_scale(frame, boxes, STORE_ZOOM)
    return Sample(img, boxes, None, SOURCE, [text] + [""] * (len(boxes) - 1), zoom)


def pasted_scenes(crops: list[tuple[Path, str]], datasets: str | Path, copies: int, seed: int,
                  widths: tuple[float, float] = (40, 160)) -> list[Sample]:
    """`copies` pasted frames of each (crop, text) row."""
    datasets = Path(datasets)
    photos, backgrounds = paste_sources(datasets)
    # each crop read once; photos and frames are read per sample, as the plate is swapped in place
    images = [cv2.imread(str(path), cv2.IMREAD_COLOR) for path, _ in crops]
    out = []
    for k in range(len(crops) * copies):
        (crop_path, text), crop = crops[k % len(crops)], images[k % len(crops)]
        rng = np.random.default_rng([seed, 23, k])
        photo_path, box = photos[int(rng.integers(0, len(photos)))]
        back_path, back_boxes = backgrounds[int(rng.integers(0, len(backgrounds)))]
        photo, back = (cv2.imread(str(p), cv2.IMREAD_COLOR) for p in (photo_path, back_path))
        if crop is None or photo is None or back is None:
            logger.warning("unreadable image skipped: %s", crop_path if crop is None else
                           photo_path if photo is None else back_path)
            continue
        out.append(pasted_scene(rng, crop, text, photo, box, back, back_boxes, widths))
    logger.info("%d pasted US plate scenes", len(out))
    return out
