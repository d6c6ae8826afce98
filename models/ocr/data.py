"""Training data for the plate OCR: synthetic plates and (optionally) real crops.

- `synthetic(n, seed)` draws n camera-view plates from `models.synth`, in
  worker processes, deterministically for a seed (each sample has its own
  seed, so the result does not depend on the number of workers).
- `real_split(dir)` splits a us-crops style folder (`labels.csv`,
  `file,state,plate`) by a hash of the file name: about 60 % "train", the
  rest "holdout". The split is fixed by the name alone, so it is the same on
  every machine and for every run.
- `augment_real(rng, image)` makes a camera-like variant of a real crop
  (re-cut margin, rotation, shrink, blur, noise, JPEG, infrared look).

No TensorFlow here: arrays come out as uint8 model inputs (0..255) so a
cache of 50 000 samples stays under 250 MB.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from gateway.recognition.ocr_input import ALPHABET, INPUT_H, INPUT_W, preprocess
from models.draws import log_uniform

logger = logging.getLogger(__name__)

MAX_LABEL = 10


class DatasetError(ValueError):
    """A crops folder is missing, unreadable or has a bad labels.csv."""


def to_input_u8(crop_bgr: np.ndarray) -> np.ndarray:
    return (preprocess(crop_bgr)[:, :, 0] * 255.0 + 0.5).astype(np.uint8)


def _synth_chunk(args) -> tuple[np.ndarray, list[str]]:
    seed, start, count, widths = args
    from models.synth.camera import ocr_sample

    images = np.empty((count, INPUT_H, INPUT_W), np.uint8)
    labels = []
    for i in range(count):
        rng = np.random.default_rng([seed, start + i])
        crop, label, _ = ocr_sample(rng, widths=widths)
        images[i] = to_input_u8(crop)
        labels.append(label)
    return images, labels


def synthetic(n: int, seed: int, workers: int = 2,
              widths: tuple[int, int] | None = None) -> tuple[np.ndarray, list[str]]:
    """n synthetic samples as (uint8 N x H x W, labels); `widths` as in `camera_view`."""
    return synthetic_range(0, n, seed, workers, widths)


def synthetic_range(first: int, n: int, seed: int, workers: int = 2,
                    widths: tuple[int, int] | None = None) -> tuple[np.ndarray, list[str]]:
    """Samples first..first+n-1 of the seed's endless sequence."""
    chunk = 250
    jobs = [(seed, first + s, min(chunk, n - s), widths) for s in range(0, n, chunk)]
    if workers <= 1 or len(jobs) == 1:
        parts = [_synth_chunk(j) for j in jobs]
    else:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_synth_chunk, jobs))
    images = np.concatenate([p[0] for p in parts]) if parts else np.empty((0, INPUT_H, INPUT_W), np.uint8)
    labels = [lab for p in parts for lab in p[1]]
    return images, labels


def read_labels(folder: str | os.PathLike) -> list[tuple[Path, str]]:
    """[(image path, plate text)] from a us-crops style folder."""
    folder = Path(folder)
    labels = folder / "labels.csv"
    if not labels.is_file():
        raise DatasetError(f"{labels} not found: a crops folder needs labels.csv with header file,state,plate")
    rows = []
    # utf-8-sig: a spreadsheet's byte-order mark would otherwise spoil the header's first name
    with labels.open(newline="", encoding="utf-8-sig") as fh:
        try:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"file", "plate"} <= {f.strip() for f in reader.fieldnames}:
                raise DatasetError(f"{labels}: the header must be file,state,plate")
            for row in reader:
                row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
                if not row["file"]:
                    raise DatasetError(f"{labels} line {reader.line_num}: no file name")
                text = row["plate"].upper().replace(" ", "").replace("-", "")
                rows.append((folder / row["file"], text))
        except UnicodeDecodeError:
            raise DatasetError(f"{labels} is not UTF-8 text: save it as UTF-8") from None
    return rows


def in_train_split(name: str) -> bool:
    """True for the ~60 % of file names used for fine-tuning (fixed by a SHA-1 of the name)."""
    return hashlib.sha1(name.encode()).digest()[0] % 10 < 6


def real_split(folder) -> dict[str, list[tuple[Path, str]]]:
    out = {"train": [], "holdout": []}
    for path, text in read_labels(folder):
        out["train" if in_train_split(path.name) else "holdout"].append((path, text))
    return out


def trainable(text: str) -> bool:
    return 2 <= len(text) <= MAX_LABEL and all(c in ALPHABET for c in text)


def augment_real(rng: np.random.Generator, image: np.ndarray, widths: tuple[int, int] | None = None) -> np.ndarray:
    """A camera-like variant of a real crop (BGR uint8 in, BGR uint8 out).

    The variant is shrunk to a width drawn log-uniformly from `widths` (pixels),
    by default from 50 to the crop's own width. Most real crops are about 320 px
    wide and the OCR scales every crop above 90 px down to 90, so the default
    spends two thirds of the variants on views that differ little; a range like
    (40, 120) spends them on the distant plates that are hard to read.
    """
    h, w = image.shape[:2]
    # re-cut: a little tighter or looser than the original box, in perspective
    pad = int(0.2 * h)
    img = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE).astype(np.float32)
    src = np.float32([[pad, pad], [pad + w, pad], [pad + w, pad + h], [pad, pad + h]])
    mx, my = rng.uniform(-0.03, 0.1) * w, rng.uniform(-0.04, 0.15) * h
    out_corners = src + np.float32([[-mx, -my], [mx, -my], [mx, my], [-mx, my]])
    out_corners += rng.normal(0, 1, (4, 2)).astype(np.float32) * np.float32([w, h]) * 0.025
    ow, oh = int(w + 2 * mx), int(h + 2 * my)
    dst = np.float32([[0, 0], [ow, 0], [ow, oh], [0, oh]])
    M = cv2.getPerspectiveTransform(out_corners, dst)
    img = cv2.warpPerspective(img, M, (ow, oh), borderMode=cv2.BORDER_REPLICATE)
    img = img * rng.uniform(0.7, 1.2) + rng.uniform(-25, 25)
    if rng.random() < 0.1:
        gray = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float32)
        mid = np.percentile(gray, rng.uniform(25, 50))
        gray = 255.0 / (1.0 + np.exp(-(gray - mid) * rng.uniform(0.04, 0.12)))
        img = np.repeat(gray[:, :, None], 3, axis=2)
    low, high = widths or (50, max(60, w))
    target = int(log_uniform(rng, low, high))
    scale = min(1.0, target / w)
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.5) / max(scale, 0.25))
    img = cv2.resize(img, (max(8, int(ow * scale)), max(6, int(oh * scale))), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.4:
        img = img + rng.normal(0, rng.uniform(2, 8), img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 95))])
        if ok:
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return img


def real_augmented(rows, copies: int, seed: int,
                   widths: tuple[int, int] | None = None) -> tuple[np.ndarray, list[str]]:
    """Each trainable real crop once as it is and `copies` times augmented (see `augment_real`)."""
    images, labels = [], []
    for k, (path, text) in enumerate(rows):
        if not trainable(text):
            continue
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            logger.warning("unreadable image skipped: %s", path)
            continue
        images.append(to_input_u8(image))
        labels.append(text)
        rng = np.random.default_rng([seed, 7, k])
        for _ in range(copies):
            images.append(to_input_u8(augment_real(rng, image, widths)))
            labels.append(text)
    if not images:
        return np.empty((0, INPUT_H, INPUT_W), np.uint8), []
    return np.stack(images), labels


def load_real(rows) -> tuple[np.ndarray, list[str]]:
    """Real crops as model inputs, unchanged (for validation)."""
    images, labels = [], []
    for path, text in rows:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        images.append(to_input_u8(image))
        labels.append(text)
    if not images:
        return np.empty((0, INPUT_H, INPUT_W), np.uint8), []
    return np.stack(images), labels
