"""`alpr eval ocr DIR [--split all|holdout|train] --json`: OCR accuracy on a crops folder.

DIR is in the us-crops format (`labels.csv` with header `file,state,plate`).
Prints exact-match accuracy, the same with the letter O and the digit 0
counted as one (US plates rarely tell them apart), top-5 accuracy (the text
among the candidates the hotlist matcher sees), character error rate (edit
distance over label length) and the latency of one read (median and 95th
percentile, one thread). `--shrink-to PX` scales crops down first, to see
how far-away plates fare. `--split` picks the fixed fine-tuning split of
models.ocr.data (by a hash of the file name): `holdout` is what the shipped
model never saw in training.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from gateway.errors import AlprError
from gateway.recognition.fusion import edit_distance
from tools.cli import common, ocr_options

logger = logging.getLogger(__name__)


class EvalDataError(AlprError):
    """The dataset folder cannot be evaluated."""


def register(subparsers) -> None:
    p = subparsers.add_parser("ocr", help="plate OCR accuracy on a us-crops style folder")
    p.add_argument("dir", metavar="DIR", help="folder with labels.csv (file,state,plate) and the images")
    p.add_argument("--split", choices=("all", "holdout", "train"), default="all",
                   help="all images, or one side of the fixed fine-tuning split (default all)")
    ocr_options.add(p)
    p.add_argument("--threads", type=common.at_least(1), default=1)
    p.add_argument("--shrink-to", type=common.at_least(8), metavar="PX",
                   help="first scale each crop down to this width (as a far-away plate would be)")
    p.add_argument("--errors", action="store_true", help="also list the misread files")
    common.add_json(p)
    p.set_defaults(func=run)


def score(pairs: list[tuple[str, str, list[str]]]) -> dict:
    """pairs of (label, read, candidate texts) -> accuracy figures."""
    n = len(pairs)
    if n == 0:
        return {"images": 0}
    fold = str.maketrans("O", "0")
    exact = sum(r == t for t, r, _ in pairs)
    exact_o0 = sum(r.translate(fold) == t.translate(fold) for t, r, _ in pairs)
    top5 = sum(t in c[:5] for t, _, c in pairs)
    dist = sum(edit_distance(t, r) for t, r, _ in pairs)
    chars = sum(len(t) for t, _, _ in pairs)
    return {
        "images": n,
        "exact": round(exact / n, 4),
        "exact_o_as_0": round(exact_o0 / n, 4),
        "top5": round(top5 / n, 4),
        "cer": round(dist / max(chars, 1), 4),
    }


def run(args) -> int:
    import cv2

    from models.ocr.data import DatasetError, in_train_split, read_labels
    from tools.cli.images import read_image

    try:
        rows = read_labels(args.dir)
    except DatasetError as exc:
        raise EvalDataError(str(exc)) from None
    if args.split != "all":
        rows = [r for r in rows if in_train_split(r[0].name) == (args.split == "train")]
    if not rows:
        raise EvalDataError(f"{args.dir} has no labelled images in split {args.split!r}")
    missing = [path.name for path, _ in rows if not path.is_file()]
    if len(missing) == len(rows):
        # Checked before the model loads; with no image there is no figure to give (the latency
        # percentile of nothing was an IndexError).
        raise EvalDataError(f"none of the {len(rows)} images labels.csv names is in {args.dir}: "
                            f"{common.some(missing)}; check the file column and the folder")
    backend = ocr_options.create(args, args.threads)
    pairs, times, errors, unreadable = [], [], [], []
    for path, label in rows:
        image, why = read_image(path)
        if image is None:
            logger.info("%s not read: %s", path, why)
            unreadable.append(path.name)
            continue
        if args.shrink_to and image.shape[1] > args.shrink_to:
            scale = args.shrink_to / image.shape[1]
            size = (args.shrink_to, max(4, round(image.shape[0] * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        t0 = time.perf_counter()
        result = backend.read(image)
        times.append((time.perf_counter() - t0) * 1000)
        pairs.append((label, result.text, [c.text for c in result.candidates]))
        if result.text != label:
            errors.append({"file": path.name, "label": label, "read": result.text})
    if not pairs:
        raise EvalDataError(f"no image in {args.dir} could be read (missing, cut short or not JPEG/PNG/BMP; -v says which): "
                            f"{common.some(unreadable)}")
    if unreadable:
        logger.warning("%d images not read (missing, cut short or not JPEG/PNG/BMP; -v says which): %s", len(unreadable),
                       common.some(unreadable))
    out = {"dataset": str(args.dir), "split": args.split, "shrink_to": args.shrink_to, **score(pairs),
           "unreadable": len(unreadable), "unreadable_files": unreadable,
           "latency_ms_median": round(float(np.median(times)), 3),
           "latency_ms_p95": round(float(np.percentile(times, 95)), 3)}
    if args.errors:
        out["errors"] = errors
    human = "\n".join(f"{k}: {v}" for k, v in out.items() if k not in ("errors", "unreadable_files"))
    if args.errors:
        human += "\n" + "\n".join(f"  {e['file']}: {e['label']} read {e['read']}" for e in errors)
    common.emit(out, args.json, human)
    return 0
