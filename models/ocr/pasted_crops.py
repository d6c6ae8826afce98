"""OCR training samples: real US plates, small on real vehicles in frames, cut as the gateway cuts them.

The us-crops teach the OCR real US plate designs, but as whole plates cut
with a random margin; in the car it reads the detector's cut of a distant
plate, often looser and blurrier. Here each training-split crop
(`models.ocr.data.real_split`) goes over the plate of a training-split photo
whose plate is US-shaped (kaggle-cars, open-images), is made a drawn width
(log-uniform in `widths`) in a frame of a drawn size with a dash-camera
training frame behind (`models.synth.paste`), goes through JPEG as a camera
board sends it, and is cut by the shipped detector and `rectify`, labelled
with the crop's text. A plate the detector does not find is skipped: the OCR
never sees it in the car either. With `cut="final"` the cut is the one the
gateway's whole reading chose (closer looks, box narrowed to the characters;
`scene_crops.final_cut`), read with the shipped OCR files: what the OCR reads
last in the car, about three times slower to make. Only training splits are
used, so the stand-ins of `alpr eval distant --plates` (the crops' hold-out
split) stay unseen.
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from gateway.recognition.ocr_input import INPUT_H, INPUT_W
from models.ocr.data import to_input_u8, trainable
from models.synth.paste_sources import FRAME_SIZES, paste_sources

logger = logging.getLogger(__name__)


def _chunk(job) -> tuple[np.ndarray, list[str]]:
    rows, photos, backgrounds, widths, seed, first, cut_by = job
    from gateway.recognition.detector_tflite import TfliteDetector
    from gateway.recognition.recognizer import Recognizer, create_ocr
    from models.ocr.scene_crops import final_cut, gateway_cut
    from models.synth.paste import distant_frame

    detector = TfliteDetector(threads=1)
    recognizer = Recognizer(detector, create_ocr()) if cut_by == "final" else None
    images, labels = [], []
    for k, (crop_path, text) in enumerate(rows):
        rng = np.random.default_rng([seed, 17, first + k])
        crop = cv2.imread(str(crop_path), cv2.IMREAD_COLOR)
        photo_path, box = photos[int(rng.integers(0, len(photos)))]
        photo = cv2.imread(str(photo_path), cv2.IMREAD_COLOR)
        if crop is None or photo is None:
            logger.warning("unreadable image skipped: %s", crop_path if crop is None else photo_path)
            continue
        fw, fh = FRAME_SIZES[int(rng.integers(0, len(FRAME_SIZES)))]
        back = cv2.imread(str(backgrounds[int(rng.integers(0, len(backgrounds)))]), cv2.IMREAD_COLOR)
        back = back if back is not None else np.zeros((fh, fw, 3), np.uint8)
        frame, plate, _ = distant_frame(rng, crop, photo, box, back, (fw, fh), widths)
        cut = final_cut(recognizer, frame, plate) if recognizer else gateway_cut(detector, frame, plate)
        if cut is not None:
            images.append(to_input_u8(cut))
            labels.append(text)
    if not images:
        return np.empty((0, INPUT_H, INPUT_W), np.uint8), []
    return np.stack(images), labels


def pasted_crops(rows: list[tuple[Path, str]], datasets: str | Path, copies: int, seed: int,
                 widths: tuple[int, int] = (40, 120), workers: int = 2,
                 cut: str = "detector") -> tuple[np.ndarray, list[str]]:
    """`copies` cuts of each (crop, text) row, small on a real vehicle in a frame: the detector's
    (`cut="detector"`) or the one the gateway's reading chose (`"final"`)."""
    if cut not in ("detector", "final"):
        raise ValueError(f"cut must be 'detector' or 'final', not {cut!r}")
    datasets = Path(datasets)
    photos, backgrounds = paste_sources(datasets)
    backgrounds = [p for p, _ in backgrounds]
    todo = [(p, t) for p, t in rows if trainable(t)] * copies
    chunk = 200
    jobs = [(todo[s:s + chunk], photos, backgrounds, widths, seed, s, cut) for s in range(0, len(todo), chunk)]
    if workers <= 1 or len(jobs) <= 1:
        parts = [_chunk(j) for j in jobs]
    else:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_chunk, jobs))
    images = [p[0] for p in parts if len(p[1])]
    labels = [lab for p in parts for lab in p[1]]
    logger.info("pasted US plates: %d of %d found and cut by the detector", len(labels), len(todo))
    if not images:
        return np.empty((0, INPUT_H, INPUT_W), np.uint8), []
    return np.concatenate(images), labels
