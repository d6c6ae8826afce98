"""OCR training samples cut by the shipped detector, as the gateway cuts them.

The OCR otherwise learns from whole plates cut with a random margin
(`models.synth.camera`, the us-crops). In the car it reads what the detector
and `gateway.recognition.rectify` give it: boxes a little narrow, shifted or
loose, corners that straighten a plate not quite right, a frame's blur and
scale. These samples carry exactly those errors:

- `synthetic_scene_crops(n, seed)`: plates of synthetic scenes
  (`models.synth.scenes`, 640x480 to 1920x1080), found by the detector and
  cut by `rectify`, labelled with the scene's text. A plate the detector does
  not find is skipped: the OCR never sees it in the car either.
- `real_scene_crops(datasets, copies, seed)`: the training-split plates with
  known text of the real scene sets (`models.detector.data`: never the
  held-out scenes), cut the same way, plus `copies` re-cuts of each around a
  jittered detector box.

Both return (uint8 N x INPUT_H x INPUT_W, labels), like `models.ocr.data`.
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from gateway.recognition.ocr_input import INPUT_H, INPUT_W
from models.ocr.data import to_input_u8, trainable

logger = logging.getLogger(__name__)

FRAME_SIZES = ((640, 480), (1280, 720), (1920, 1080), (960, 540))
MATCH_IOU = 0.3  # a detection this close to a plate is the gateway's cut of it
TEXT_SETS = ("openalpr-benchmarks/br-scenes", "openalpr-benchmarks/eu-scenes")


def _nearest(items, box, box_of):
    """The item whose box (`box_of(item)`) overlaps `box` most, at least MATCH_IOU; else None."""
    from gateway.recognition.boxes import iou

    best, best_iou = None, MATCH_IOU
    for item in items:
        overlap = iou(box_of(item), box)
        if overlap >= best_iou:
            best, best_iou = item, overlap
    return best


def gateway_cut(detector, frame: np.ndarray, box) -> np.ndarray | None:
    """The gateway's crop of the plate at `box`, or None when the detector misses it."""
    from gateway.recognition.rectify import rectify

    best = _nearest(detector.detect(frame), box, lambda det: det.box)
    if best is None:
        return None
    crop = rectify(frame, best.box, best.corners)
    return crop if crop.size else None


def final_cut(recognizer, frame: np.ndarray, box) -> np.ndarray | None:
    """The cut the gateway's reading of the plate at `box` came from (after its closer looks and
    narrowing), or the detector's cut where no reading passed; None when the detector misses it."""
    cut = [read for read in recognizer.read_frame(frame) if read.crop is not None and read.crop.size]
    best = _nearest(cut, box, lambda read: read.detection.box)
    return best.crop if best is not None else gateway_cut(recognizer.detector, frame, box)


def _scene_chunk(args) -> tuple[np.ndarray, list[str]]:
    seed, start, count = args
    from gateway.recognition.detector_tflite import TfliteDetector
    from models.synth.scenes import render_scene

    detector = TfliteDetector(threads=1)
    images, labels = [], []
    k = start
    while len(labels) < count:
        rng = np.random.default_rng([seed, 11, k])
        k += 1
        w, h = FRAME_SIZES[int(rng.integers(0, len(FRAME_SIZES)))]
        frame, plates = render_scene(rng, w, h, n_plates=int(rng.integers(1, 4)), min_plate_px=max(40.0, w * 0.025))
        for plate in plates:
            if not trainable(plate.text):
                continue
            crop = gateway_cut(detector, frame, plate.box)
            if crop is not None and len(labels) < count:
                images.append(to_input_u8(crop))
                labels.append(plate.text)
    return np.stack(images), labels


def synthetic_scene_crops(n: int, seed: int, workers: int = 2) -> tuple[np.ndarray, list[str]]:
    """n plates of synthetic scenes as the detector and rectify cut them."""
    chunk = 250
    # each chunk draws its scenes from its own range of scene numbers, so the result
    # does not depend on the number of workers
    jobs = [(seed, s * 100, min(chunk, n - s)) for s in range(0, n, chunk)]
    if workers <= 1 or len(jobs) == 1:
        parts = [_scene_chunk(j) for j in jobs]
    else:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_scene_chunk, jobs))
    if not parts:
        return np.empty((0, INPUT_H, INPUT_W), np.uint8), []
    return np.concatenate([p[0] for p in parts]), [lab for p in parts for lab in p[1]]


def _jittered(rng: np.random.Generator, box, frame_hw) -> tuple[int, int, int, int]:
    """A detector-like box near `box`: shifted, narrower or wider, taller or flatter."""
    x, y, w, h = box
    nw, nh = w * rng.uniform(0.85, 1.2), h * rng.uniform(0.85, 1.35)
    cx, cy = x + w / 2 + rng.normal(0, 0.05) * w, y + h / 2 + rng.normal(0, 0.08) * h
    fh, fw = frame_hw
    x0, y0 = max(0, int(round(cx - nw / 2))), max(0, int(round(cy - nh / 2)))
    x1, y1 = min(fw, int(round(cx + nw / 2))), min(fh, int(round(cy + nh / 2)))
    return x0, y0, max(2, x1 - x0), max(2, y1 - y0)


def real_scene_crops(datasets: str | Path, copies: int, seed: int,
                     sets: tuple[str, ...] = TEXT_SETS) -> tuple[np.ndarray, list[str]]:
    """Training-split plates with text from the real scene sets: the detector's cut and `copies` jittered re-cuts."""
    from gateway.recognition.detector_tflite import TfliteDetector
    from gateway.recognition.rectify import crop_box
    from models.detector.data import split_scenes

    detector = TfliteDetector(threads=1)
    images, labels = [], []
    rng = np.random.default_rng([seed, 13])
    for _, path, plates in split_scenes(Path(datasets), sets):
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if frame is None:
            logger.warning("unreadable image skipped: %s", path)
            continue
        for box, text in plates:
            if not trainable(text):
                continue
            crop = gateway_cut(detector, frame, box)
            cuts = [] if crop is None else [crop]
            cuts += [crop_box(frame, _jittered(rng, box, frame.shape[:2])) for _ in range(copies)]
            for c in cuts:
                if c.size:
                    images.append(to_input_u8(c))
                    labels.append(text)
    logger.info("real scene crops: %d samples", len(labels))
    if not images:
        return np.empty((0, INPUT_H, INPUT_W), np.uint8), []
    return np.stack(images), labels
