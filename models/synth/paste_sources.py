"""Where training-split plates are pasted from and into: US-shaped plate photos, dash-camera frames.

The OCR's pasted cuts (`models.ocr.pasted_crops`) and the detector's pasted
scenes (`models.detector.pasted`) draw from the same training-split photos
and backgrounds, so that neither ever sees a held-out scene.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PHOTO_SETS = ("scenes/kaggle-cars", "scenes/open-images")
BACKGROUND_SET = "scenes/dashcam-ro"
FRAME_SIZES = ((640, 480), (1280, 720), (1920, 1080))
MIN_PHOTO_PLATE_PX = 60  # the photo's plate at least this wide, so the crop is only ever scaled down


def us_plate_photos(datasets: Path) -> list[tuple[Path, tuple[float, float, float, float]]]:
    """(photo, its first US-shaped plate box at least MIN_PHOTO_PLATE_PX wide) of the training split."""
    from models.detector.data import split_scenes
    from models.synth.paste import us_shaped

    out = []
    for _, path, plates in split_scenes(datasets, PHOTO_SETS):
        box = next((b for b, _ in plates if us_shaped(b, MIN_PHOTO_PLATE_PX)), None)
        if box is not None:
            out.append((path, tuple(box)))
    return out


def dash_backgrounds(datasets: Path) -> list[tuple[Path, np.ndarray]]:
    """(frame, its labelled plate boxes as an N x 4 array) of the dash-camera training split; a
    frame labels.tsv does not list has no plates."""
    from models.detector.data import is_held_out, read_labels

    folder = Path(datasets) / BACKGROUND_SET
    labels = read_labels(folder) if (folder / "labels.tsv").is_file() else {}
    return [(p, np.array([b for b, _ in labels.get(p.name, [])], np.float32).reshape(-1, 4))
            for p in sorted(folder.glob("*.jpg")) if not is_held_out(BACKGROUND_SET, p.name)]


def paste_sources(datasets: Path) -> tuple[list[tuple[Path, tuple[float, float, float, float]]],
                                           list[tuple[Path, np.ndarray]]]:
    """(us_plate_photos, dash_backgrounds) of `datasets`; FileNotFoundError naming the sets if either is empty."""
    photos, backgrounds = us_plate_photos(datasets), dash_backgrounds(datasets)
    if not photos or not backgrounds:
        raise FileNotFoundError(f"{datasets}: needs {', '.join(PHOTO_SETS)} and {BACKGROUND_SET} with labels.tsv")
    return photos, backgrounds
