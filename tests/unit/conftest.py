"""Fixtures shared by the unit tests of the training data."""

import zlib

import cv2
import numpy as np
import pytest

from models.synth.plates import render_plate
from models.synth.scenes import render_scene


def _name(held_out: bool, start: int) -> str:
    i = start
    while (zlib.crc32(f"car{i}.jpg".encode()) % 5 == 0) != held_out:
        i += 1
    return f"car{i}.jpg"


@pytest.fixture(scope="module")
def paste_training_photos() -> list[str]:
    """The names of paste_datasets' photos on the training side of the split (a third is held out)."""
    return sorted([_name(False, 0), _name(False, 50)])


@pytest.fixture(scope="module")
def paste_datasets(tmp_path_factory):
    root = tmp_path_factory.mktemp("datasets")
    rng = np.random.default_rng(12)
    photos = root / "scenes" / "kaggle-cars"
    photos.mkdir(parents=True)
    lines = []
    for name in (_name(False, 0), _name(False, 50), _name(True, 100)):
        while True:  # a photo with one large US-shaped plate
            frame, plates = render_scene(rng, 1280, 720, n_plates=1, min_plate_px=120, night=False)
            if len(plates) == 1 and 1.6 <= plates[0].box[2] / plates[0].box[3] <= 2.6:
                break
        cv2.imwrite(str(photos / name), frame)
        lines.append(f"{name}\t" + "\t".join(str(v) for v in plates[0].box) + f"\t{plates[0].text}")
    (photos / "labels.tsv").write_text("\n".join(lines) + "\n")
    backs = root / "scenes" / "dashcam-ro"
    backs.mkdir(parents=True)
    cv2.imwrite(str(backs / "street.jpg"), render_scene(rng, 1280, 720, n_plates=0)[0])
    (backs / "labels.tsv").write_text("")
    crops = root / "crops"
    crops.mkdir()
    rows = []
    for k in range(4):
        image, text = render_plate(rng)[:2]
        cv2.imwrite(str(crops / f"c{k}.jpg"), image)
        rows.append((crops / f"c{k}.jpg", text))
    return root, rows
