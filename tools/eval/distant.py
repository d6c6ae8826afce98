"""`alpr eval distant SRC... --out DIR --width PX [--frame WxH]`: distant plates made from near ones.

The judged sets have plates 46-60 px wide (US roadside frames, California
rear views), and the labelled scenes here mostly have large ones. This makes
a stand-in: each photo's first plate with known text is scaled to PX wide
together with the rear of its vehicle (a region of about 8 x 6 plate widths
around it, cut to the photo), and that region is pasted at a random place
into a background frame of WxH, which is saved as JPEG (as a camera board
sends). The folder gets a `labels.tsv` like the datasets', so
`alpr eval scenes DIR --json` scores it. Other plates in the pasted region
and in the backgrounds are not labelled: precision on such a folder means
little; plates found and read exactly are the figures.

With `--plates DIR` (a crops folder like `openalpr-benchmarks/us-crops`:
images and a `labels.csv` of `file,state,plate`) the plates are swapped
first: each crop of DIR that the OCR never trained on (its fixed hold-out
split, `models.ocr.data.real_split`) is resized into the box of a source
photo's plate shaped like it (`models.synth.paste.us_shaped`) and at
least PX wide, one frame per crop, the photos taken in turn; the frame's
text is the crop's. So real US plates of every state design are read in
front of real vehicles, where the labelled scenes here have mostly
Brazilian and European ones.

Backgrounds are the images of `--backgrounds DIR` (a dash-camera set, say)
scaled to the frame, else synthetic streets without plates. `--split` takes
the photos the shipped detector trained on (`train`: to choose on), the ones
it never saw (`holdout`: to report), or all.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from gateway.errors import AlprError
from models.synth.paste import JPEG_QUALITY, paste_distant, swap_plate, us_shaped
from tools.cli import common

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")

logger = logging.getLogger(__name__)


class DistantSetError(AlprError):
    """The distant-plate folder cannot be made from what was given."""


def register(subparsers) -> None:
    p = subparsers.add_parser("distant", help="make a folder of distant plates from labelled scenes (for eval scenes)")
    p.add_argument("sources", nargs="+", metavar="SRC", help="labelled scene folders (labels.tsv with plate texts)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the frames and labels.tsv to")
    p.add_argument("--width", type=int, required=True, metavar="PX", help="the plates' width in the frames")
    p.add_argument("--frame", default="1920x1080", metavar="WxH", help="frame size (default 1920x1080)")
    p.add_argument("--backgrounds", metavar="DIR", help="images to paste into (default: synthetic streets)")
    p.add_argument("--split", choices=("all", "holdout", "train"), default="train",
                   help="which photos, by the detector's fixed training split (default train)")
    p.add_argument("--seed", type=common.at_least(0), default=0,
                   help="where the plates go and which background (default 0)")
    p.add_argument("--plates", metavar="DIR",
                   help="put these plate crops (labels.csv: file,state,plate; the OCR's hold-out split) "
                        "over the photos' US-shaped plates, one frame per crop")
    common.add_json(p)
    p.set_defaults(func=run)


def frame_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise DistantSetError(f"--frame {text!r}: expected WIDTHxHEIGHT, e.g. 1920x1080") from None
    if not (64 <= w <= 8192 and 64 <= h <= 8192):
        raise DistantSetError(f"--frame {text}: each side must be 64-8192 pixels")
    return w, h


def _photos(sources: list[str], split: str, shaped_from: int | None = None) -> list[tuple[Path, list[float], str]]:
    """Each photo's first plate with text; with `shaped_from`, its first US-shaped plate at least
    that wide (a crop put there is then only ever scaled down), text or not."""
    from models.detector.data import is_held_out
    from tools.eval.scenes import read_labels

    out = []
    for src in sources:
        folder = Path(src)
        labels = read_labels(folder)  # a missing or bad labels.tsv is named, as for eval scenes
        set_name = f"{folder.parent.name}/{folder.name}"
        for name, plates in sorted(labels.items()):
            if split != "all" and is_held_out(set_name, name) != (split == "holdout"):
                continue
            if shaped_from is not None:
                first = next(((box, text) for box, text in plates if us_shaped(box, shaped_from)), None)
            else:
                first = next(((box, text) for box, text in plates if text), None)
            if first is not None:
                out.append((folder / name, first[0], first[1]))
    return out


def _crops(folder: str) -> list[tuple[Path, str]]:
    """The crops of a --plates folder that the OCR never trained on."""
    from models.ocr.data import DatasetError, real_split

    try:
        crops = real_split(folder)["holdout"]
    except DatasetError as exc:
        raise DistantSetError(f"--plates: {exc}") from None
    if not crops:
        raise DistantSetError(f"--plates {folder}: no crops in its labels.csv")
    return crops


def _inside(box, photo: np.ndarray) -> bool:
    """The labelled plate lies within the photo (a pixel of rounding allowed either side)."""
    x, y, w, h = box
    return x >= -1 and y >= -1 and x + w <= photo.shape[1] + 1 and y + h <= photo.shape[0] + 1


def _backgrounds(folder: str | None, size: tuple[int, int], rng: np.random.Generator):
    """An endless supply of background frames of `size`."""
    import cv2

    if folder:
        files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DistantSetError(f"--backgrounds {folder}: no JPEG, PNG or BMP images there")
        k = failed = 0
        while True:
            img = cv2.imread(str(files[k % len(files)]), cv2.IMREAD_COLOR)
            k += 1
            if img is None:
                failed += 1
                if failed >= len(files):  # a whole round without one image: it would loop for ever
                    raise DistantSetError(f"--backgrounds {folder}: none of its images can be read "
                                          f"({common.some([p.name for p in files], 3)}); give a folder of JPEG, PNG or BMP images")
                continue
            failed = 0
            yield cv2.resize(img, size, interpolation=cv2.INTER_AREA)
    else:
        from models.synth.scenes import render_scene

        while True:
            yield render_scene(rng, size[0], size[1], n_plates=0)[0]


def build(sources: list[str], out: Path, width: int, size: tuple[int, int], backgrounds: str | None = None,
          split: str = "train", seed: int = 0, plates: str | None = None) -> dict:
    import cv2

    if not 8 <= width <= size[0] // 2:
        raise DistantSetError(f"--width {width}: must be 8 px to half the frame's width ({size[0] // 2})")
    photos = _photos(sources, split, width if plates else None)
    if not photos:
        wanted = f"US-shaped plate box at least {width} px wide" if plates else "labelled plate with text"
        raise DistantSetError(f"no {wanted} in {', '.join(sources)} (split {split})")
    crops = _crops(plates) if plates else None
    rng = np.random.default_rng(seed)
    supply = _backgrounds(backgrounds, size, rng)
    out.mkdir(parents=True, exist_ok=True)
    lines, skipped = [], []
    jobs = ([(photos[k % len(photos)], crop) for k, crop in enumerate(crops)] if crops
            else [(photo, None) for photo in photos])
    for k, ((path, box, text), crop) in enumerate(jobs):
        photo = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if photo is None or box[2] < 2 or box[3] < 2:
            skipped.append(str(path))
            continue
        if not _inside(box, photo):
            logger.warning("%s: its labelled plate %s lies outside the %dx%d photo (check labels.tsv); skipped",
                           path, ",".join(f"{v:g}" for v in box), photo.shape[1], photo.shape[0])
            skipped.append(str(path))
            continue
        box = [int(round(v)) for v in box]
        if crop is not None:
            image = cv2.imread(str(crop[0]), cv2.IMREAD_COLOR)
            if image is None:
                skipped.append(str(crop[0]))
                continue
            box, text = swap_plate(photo, box, image), crop[1]
        frame, plate, _ = paste_distant(photo, box, width, next(supply), rng)
        name = f"d{k:04d}_{path.stem}.jpg" if crop is None else f"d{k:04d}_{crop[0].stem}_{path.stem}.jpg"
        if not cv2.imwrite(str(out / name), frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
            raise DistantSetError(f"cannot write {out / name}: is the disk full or the folder read-only?")
        lines.append("\t".join([name, *(str(v) for v in plate), text]))
    if not lines:
        raise DistantSetError(f"no frame made: {len(skipped)} skipped ({common.some([Path(p).name for p in skipped], 3)}), "
                              "each unreadable or with a labelled plate that cannot be used")
    (out / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {"out": str(out), "frames": len(lines), "width": width, "frame": f"{size[0]}x{size[1]}",
            "split": split, "plates": plates, "skipped": skipped}


def run(args) -> int:
    result = build(args.sources, Path(args.out), args.width, frame_size(args.frame), args.backgrounds,
                   args.split, args.seed, args.plates)
    human = json.dumps(result, indent=2) + f"\nscore it with: alpr eval scenes {result['out']} --json"
    common.emit(result, args.json, human)
    return 0
