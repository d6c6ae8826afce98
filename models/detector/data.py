"""Training samples for the detector: real labelled scenes and synthetic ones.

Real scenes are read from a datasets folder at training time (never copied
into the repository), scaled to the network's letterbox scale and kept in
memory. A fixed part of each set is held out for validation (`is_held_out`):
the dash-camera videos `dayride_type1_002` and `dayride_type1_003` (split by
video, as frames of one video are near-duplicates), and for the other sets
every file whose CRC-32 of its name is divisible by 5.

Each training sample is a square crop at a random scale around a plate (or
anywhere), with colour, blur, grey and mirror augmentation, and its target
grid (see geometry.py).
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from models.detector.geometry import INPUT_H, INPUT_W, STRIDE
from models.draws import log_uniform
from models.synth.scenes import render_scene

logger = logging.getLogger(__name__)

REAL_SETS = (
    "scenes/kaggle-cars",
    "scenes/open-images",
    "scenes/dashcam-ro",
    "openalpr-benchmarks/eu-scenes",
    "openalpr-benchmarks/br-scenes",
)
HELD_OUT_VIDEOS = ("dayride_type1_002", "dayride_type1_003")


@dataclass
class Sample:
    image: np.ndarray  # BGR, at letterbox scale
    boxes: np.ndarray  # (N, 4) x, y, w, h
    corners: np.ndarray | None = None  # (N, 4, 2) when known (synthetic)
    source: str = ""
    texts: list[str] = field(default_factory=list)
    zoom: float = 1.0  # the image's scale relative to the letterbox scale (more detail kept when > 1)


def is_held_out(set_name: str, file_name: str) -> bool:
    if set_name.endswith("dashcam-ro"):
        return file_name.startswith(HELD_OUT_VIDEOS)
    return zlib.crc32(file_name.encode()) % 5 == 0


class SceneLabelsError(ValueError):
    """A scenes folder's labels.tsv is missing or has a line that is not a plate."""


def read_labels(folder: Path) -> dict[str, list[tuple[list[float], str]]]:
    """labels.tsv (`file, x, y, w, h[, plate]`, tab separated) as {file: [([x, y, w, h], text), ...]}.

    The one reader of the scene label format: training, the OCR's scene cuts and
    `alpr eval scenes` all read it here, so they agree on what a folder holds.
    """
    labels = Path(folder) / "labels.tsv"
    if not labels.is_file():
        raise SceneLabelsError(f"{labels} is missing: a scenes folder needs labels.tsv "
                               "(file, x, y, w, h, plate; tab separated)")
    out: dict[str, list[tuple[list[float], str]]] = {}
    # utf-8-sig: a spreadsheet's byte-order mark would otherwise become part of the first file name
    try:
        text = labels.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SceneLabelsError(f"{labels} is not UTF-8 text (byte {exc.start} of the file): "
                               "save it as UTF-8") from None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        try:
            box = [float(v) for v in parts[1:5]]
        except ValueError:
            raise SceneLabelsError(f"{labels} line {n}: x, y, w, h must be numbers") from None
        if len(box) != 4 or not parts[0]:
            raise SceneLabelsError(f"{labels} line {n}: expected file, x, y, w, h[, plate]")
        if not all(np.isfinite(box)) or box[2] <= 0 or box[3] <= 0:
            raise SceneLabelsError(f"{labels} line {n}: the box must be finite, with a width and height over 0")
        out.setdefault(parts[0], []).append((box, parts[5].strip().upper() if len(parts) > 5 else ""))
    return out


# Real and synthetic scenes are kept at up to twice the letterbox scale (never above
# the image's own size), so that a crop can show a plate as the gateway's fine pass sees
# it, at twice the letterbox scale, with the detail the frame really has.
STORE_ZOOM = 2.0


def to_letterbox_scale(img: np.ndarray, boxes: np.ndarray, zoom: float = 1.0) -> tuple[np.ndarray, np.ndarray, float]:
    """The image at `zoom` times the letterbox scale, at most its own size: (image, boxes, zoom kept)."""
    h, w = img.shape[:2]
    lb = min(INPUT_W / w, INPUT_H / h)
    s = min(lb * zoom, max(lb, 1.0))
    img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return img, boxes * s, s / lb


def split_scenes(root: Path, set_names, held_out: bool = False):
    """(set name, image path, plates) of one side of the fixed split, set by set, files in
    name order; a set without labels.tsv is skipped with a warning."""
    for set_name in set_names:
        folder = Path(root) / set_name
        if not (folder / "labels.tsv").is_file():
            logger.warning("no labels.tsv in %s; set skipped", folder)
            continue
        for name, plates in sorted(read_labels(folder).items()):
            if is_held_out(set_name, name) == held_out:
                yield set_name, folder / name, plates


def load_real(root: Path, held_out: bool) -> list[Sample]:
    samples = []
    for set_name, path, plates in split_scenes(root, REAL_SETS, held_out):
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            continue
        boxes = np.array([b for b, _ in plates], np.float32)
        img, boxes, zoom = to_letterbox_scale(img, boxes, STORE_ZOOM)
        samples.append(Sample(img, boxes, None, set_name, [t for _, t in plates], zoom))
    logger.info("%d real %s scenes", len(samples), "held-out" if held_out else "training")
    return samples


def synthetic(rng: np.random.Generator) -> Sample:
    # Rendered at a camera resolution, then scaled like a real frame would be.
    w, h = [(640, 480), (1280, 720), (1920, 1080), (960, 540)][int(rng.integers(0, 4))]
    img, plates = render_scene(rng, w, h, min_plate_px=w * 0.025)
    boxes = np.array([p.box for p in plates], np.float32).reshape(-1, 4)
    corners = np.array([p.corners for p in plates], np.float32).reshape(-1, 4, 2)
    img, boxes, zoom = to_letterbox_scale(img, boxes, STORE_ZOOM)
    corners = corners * (img.shape[1] / w)
    return Sample(img, boxes, corners, "synthetic", [p.text for p in plates], zoom)


def targets(size: tuple[int, int], boxes: np.ndarray, corners: np.ndarray | None) -> np.ndarray:
    """The target grid: 13 channels as geometry.py, then regression mask, corner mask.

    Channel 0 is the share of each cell the plate covers (a soft mask); every
    cell mostly inside a plate carries that plate's size, centre and corners,
    so each plate gives many examples, not one.
    """
    gh, gw = size[0] // STRIDE, size[1] // STRIDE
    t = np.zeros((gh, gw, 15), np.float32)
    fine = np.zeros((gh * STRIDE, gw * STRIDE), np.uint8)
    order = np.argsort([-(b[2] * b[3]) for b in boxes]) if len(boxes) else []
    for i in order:  # large first, so a small plate in front of a large one keeps its cells
        x, y, w, h = boxes[i]
        if w < 4 or h < 2:
            continue
        if corners is not None:
            quad = corners[i]
        else:
            quad = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)
        fine[:] = 0
        cv2.fillPoly(fine, [np.round(quad * 4).astype(np.int32)], 255, shift=2)
        cover = cv2.resize(fine, (gw, gh), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        cx, cy = x + w / 2, y + h / 2
        inside = cover >= 0.5
        ix, iy = int(cx // STRIDE), int(cy // STRIDE)
        if 0 <= ix < gw and 0 <= iy < gh:
            inside[iy, ix] = True  # a plate thinner than a cell still has its centre cell
        if not inside.any():
            continue
        t[..., 0] = np.maximum(t[..., 0], np.where(inside, np.maximum(cover, 0.75), cover))
        ys, xs = np.nonzero(inside)
        cell_x, cell_y = (xs + 0.5) * STRIDE, (ys + 0.5) * STRIDE
        t[ys, xs, 1] = np.log(w / STRIDE)
        t[ys, xs, 2] = np.log(h / STRIDE)
        t[ys, xs, 3] = (cx - cell_x) / w
        t[ys, xs, 4] = (cy - cell_y) / h
        t[ys, xs, 13] = 1.0
        if corners is not None:
            t[ys, xs, 5:13] = ((corners[i] - [cx, cy]) / [w, h]).reshape(-1)
            t[ys, xs, 14] = 1.0
        else:
            t[ys, xs, 14] = 0.0
    return t


def crop_sample(rng: np.random.Generator, s: Sample, crop: int,
                max_zoom: float = 1.7) -> tuple[np.ndarray, np.ndarray]:
    """A `crop` x `crop` training image and its target grid, augmented.

    The scale is drawn between 0.55 and `max_zoom` times the letterbox scale
    (2.4 would cover the gateway's fine pass, which sees frames at twice it);
    a crop around a plate is never so zoomed that the plate fills most of it.
    """
    zoom = float(log_uniform(rng, 0.55, max_zoom))
    target = int(rng.integers(0, len(s.boxes))) if len(s.boxes) and rng.random() < 0.75 else None
    if target is not None:
        zoom = min(zoom, max(0.55, 0.8 * crop / max(1.0, float(s.boxes[target][2]) / s.zoom)))
    scale = zoom / s.zoom
    img = cv2.resize(s.image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    boxes = s.boxes * scale
    corners = None if s.corners is None else s.corners * scale
    h, w = img.shape[:2]
    if target is not None:
        x, y, bw, bh = boxes[target]
        cx, cy = x + bw / 2 + rng.uniform(-0.4, 0.4) * crop, y + bh / 2 + rng.uniform(-0.4, 0.4) * crop
    else:
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    x0, y0 = int(cx - crop / 2), int(cy - crop / 2)
    out = np.full((crop, crop, 3), rng.integers(0, 255), np.uint8)
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(w, x0 + crop), min(h, y0 + crop)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
    boxes = boxes - [x0, y0, 0, 0]
    if corners is not None:
        corners = corners - [x0, y0]
    # Keep a plate only if most of it is inside the crop; mostly-cut ones are ignored.
    keep = []
    for x, y, bw, bh in boxes:
        ix = max(0, min(crop, x + bw) - max(0, x)) * max(0, min(crop, y + bh) - max(0, y))
        keep.append(ix >= 0.6 * bw * bh)
    keep = np.array(keep, bool) if keep else np.zeros(0, bool)
    boxes = boxes[keep] if len(boxes) else boxes
    corners = corners[keep] if corners is not None and len(keep) else corners
    if rng.random() < 0.5:
        out = out[:, ::-1].copy()
        if len(boxes):
            boxes[:, 0] = crop - boxes[:, 0] - boxes[:, 2]
        if corners is not None and len(corners):
            corners[..., 0] = crop - corners[..., 0]
            corners = corners[:, [1, 0, 3, 2]]
    out = _colour(rng, out)
    return out, targets((crop, crop), boxes, corners)


def _colour(rng, img):
    f = img.astype(np.float32)
    if rng.random() < 0.15:
        f[:] = f.mean(axis=2, keepdims=True)
    f = f * rng.uniform(0.6, 1.4) + rng.uniform(-30, 30)
    f = f * rng.uniform(0.85, 1.15, 3)
    if rng.random() < 0.2:
        f = cv2.GaussianBlur(f, (0, 0), rng.uniform(0.5, 1.5))
    return np.clip(f, 0, 255).astype(np.uint8)
