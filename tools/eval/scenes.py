"""`alpr eval scenes DIR [--split all|holdout|train] --json`: plate finding and reading on scenes.

DIR holds images and `labels.tsv` (`file<TAB>x<TAB>y<TAB>w<TAB>h<TAB>plate`, one
plate a line, `plate` empty where unknown), as in the datasets folder.
Detections are matched to labelled plates one to one, best score first, at
IoU >= 0.5. Prints detection recall and precision, exact-read accuracy over
the plates whose text is known (a plate not found counts as misread), recall
by plate width, and latency per frame (median, p95; one thread; decoding the
file not included). `--split holdout` keeps the files the shipped detector
never trained on (models.detector.data.is_held_out).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from gateway.errors import AlprError
from gateway.recognition.boxes import iou
from tools.cli import common
from tools.cli.commands.recognize import add_model_options, recognizer

logger = logging.getLogger(__name__)

WIDTH_BINS = ((0, 40), (40, 80), (80, 160), (160, 100000))


class SceneDataError(AlprError):
    """The scenes folder cannot be evaluated."""


def register(subparsers) -> None:
    p = subparsers.add_parser("scenes", help="plate detection and reading on a folder of labelled scenes")
    p.add_argument("dir", metavar="DIR", help="folder with labels.tsv and the images")
    p.add_argument("--split", choices=("all", "holdout", "train"), default="all",
                   help="all images, or one side of the detector's fixed training split (default all)")
    p.add_argument("--detect-only", action="store_true", help="skip reading (detection figures only)")
    p.add_argument("--limit", type=common.at_least(0), default=0, help="evaluate at most N images (0: all)")
    p.add_argument("--errors", action="store_true", help="also list missed and misread plates")
    add_model_options(p)
    common.add_json(p)
    p.set_defaults(func=run)


def read_labels(folder: Path) -> dict[str, list[tuple[list[float], str]]]:
    from models.detector.data import SceneLabelsError
    from models.detector.data import read_labels as read

    try:
        return read(folder)
    except SceneLabelsError as exc:
        raise SceneDataError(str(exc)) from None


def match(truth: list[list[float]], boxes: list, threshold: float = 0.5) -> dict[int, int]:
    """Truth index -> detection index; detections taken in the given (score) order."""
    pairs: dict[int, int] = {}
    for d, box in enumerate(boxes):
        best, best_iou = -1, threshold
        for t, tbox in enumerate(truth):
            if t in pairs:
                continue
            v = iou(tbox, box)
            if v >= best_iou:
                best, best_iou = t, v
        if best >= 0:
            pairs[best] = d
    return pairs


def _boxes_and_texts(rec, image, detect_only: bool) -> list[tuple]:
    if detect_only:
        return [(d.box, "") for d in rec.detector.detect(image)]
    return [(p.detection.box, p.text) for p in rec.read_frame(image)]


def _warn_outside(path: Path, truth: list[tuple[list[float], str]], image) -> None:
    """Name a labelled box that lies wholly outside its image: it can never be found, and it
    counts as missed (labels of another image size, or a slip in labels.tsv)."""
    h, w = image.shape[:2]
    for (x, y, bw, bh), _ in truth:
        if x >= w or y >= h or x + bw <= 0 or y + bh <= 0:
            logger.warning("%s: the labelled box %s lies outside the %dx%d image and counts as missed; "
                           "check labels.tsv", path, ",".join(f"{v:g}" for v in (x, y, bw, bh)), w, h)


def evaluate(folder: Path, rec, split: str = "all", detect_only: bool = False, limit: int = 0) -> dict:
    from models.detector.data import is_held_out
    from tools.cli.images import read_image

    labels = read_labels(folder)
    if not labels:
        raise SceneDataError(f"{folder / 'labels.tsv'} lists no plates: nothing to evaluate")
    set_name = f"{folder.parent.name}/{folder.name}"
    files = sorted(f for f in labels if split == "all" or is_held_out(set_name, f) == (split == "holdout"))
    if not files:
        raise SceneDataError(f"none of the {len(labels)} images listed in {folder / 'labels.tsv'} is in the "
                             f"{split} split: try --split all")
    if limit:
        files = files[:limit]
    plates = found = detections = true_dets = known = exact = 0
    by_width = {f"{lo}-{hi if hi < 100000 else ''}": [0, 0] for lo, hi in WIDTH_BINS}
    times, errors, unreadable = [], [], []
    warm = False
    for name in files:
        image, why = read_image(folder / name)
        if image is None:
            # one bad file must not cost the figures of the rest; it is named, and the run fails
            logger.error("%s is listed in labels.tsv but cannot be read (%s): left out", folder / name, why)
            unreadable.append(name)
            continue
        if not warm:  # the first call allocates the models' buffers: not a frame's time
            _boxes_and_texts(rec, image, detect_only)
            warm = True
        t0 = time.perf_counter()
        reads = _boxes_and_texts(rec, image, detect_only)
        times.append((time.perf_counter() - t0) * 1000.0)
        truth = labels[name]
        _warn_outside(folder / name, truth, image)
        pairs = match([b for b, _ in truth], [b for b, _ in reads])
        plates += len(truth)
        found += len(pairs)
        detections += len(reads)
        true_dets += len(pairs)
        for t, (box, text) in enumerate(truth):
            for (lo, hi), key in zip(WIDTH_BINS, by_width, strict=True):
                if lo <= box[2] < hi:
                    by_width[key][0] += 1
                    by_width[key][1] += t in pairs
            read = reads[pairs[t]][1] if t in pairs else None
            if text:
                known += 1
                exact += read == text
            if read is None or (text and not detect_only and read != text):
                errors.append({"file": name, "box": box, "plate": text, "read": read})
    if not times:
        raise SceneDataError(f"none of the {len(files)} images listed in {folder / 'labels.tsv'} could be read")
    t = np.array(times)
    out = {
        "dir": str(folder),
        "split": split,
        "images": len(files) - len(unreadable),
        "unreadable": unreadable,
        "plates": plates,
        "recall": round(found / max(plates, 1), 4),
        "precision": round(true_dets / max(detections, 1), 4),
        "recall_by_width": {k: (round(v[1] / v[0], 4) if v[0] else None) for k, v in by_width.items()},
        "ms_median": round(float(np.median(t)), 1),
        "ms_p95": round(float(np.percentile(t, 95)), 1),
    }
    if not detect_only:
        out["plates_with_text"] = known
        out["exact_read"] = round(exact / known, 4) if known else None
    out["_errors"] = errors
    return out


def run(args) -> int:
    folder = Path(args.dir)
    result = evaluate(folder, recognizer(args, not args.detect_only), args.split, args.detect_only, args.limit)
    errors = result.pop("_errors")
    if args.errors:
        result["errors"] = errors
    human = "\n".join(f"{k}: {v}" for k, v in result.items() if k != "errors")
    common.emit(result, args.json, human)
    return 1 if result["unreadable"] else 0
