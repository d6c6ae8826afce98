"""OCR training samples: real-like plates put small on vehicles of other photos, cut by the detector."""

import zlib

import cv2
import numpy as np
import pytest

from gateway.recognition.ocr_input import INPUT_H, INPUT_W
from models.ocr.pasted_crops import pasted_crops
from models.synth.plates import render_plate
from models.synth.scenes import render_scene


def _name(held_out: bool, start: int) -> str:
    i = start
    while (zlib.crc32(f"car{i}.jpg".encode()) % 5 == 0) != held_out:
        i += 1
    return f"car{i}.jpg"


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
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


def test_each_crop_is_cut_by_the_detector_from_a_frame(datasets):
    root, rows = datasets
    x, y = pasted_crops(rows, root, copies=2, seed=3, widths=(70, 110), workers=1)
    assert x.shape == (len(y), INPUT_H, INPUT_W) and x.dtype == np.uint8
    # the detector finds most of them at 70-110 px; the texts are the crops' own
    assert 5 <= len(y) <= 8
    assert set(y) <= {t for _, t in rows}
    assert x.std() > 10
    x2, y2 = pasted_crops(rows, root, copies=2, seed=3, widths=(70, 110), workers=1)
    assert y2 == y and np.array_equal(x2, x)


def test_without_the_photo_sets_it_says_what_is_missing(tmp_path, datasets):
    _, rows = datasets
    with pytest.raises(FileNotFoundError, match="kaggle-cars"):
        pasted_crops(rows, tmp_path, copies=1, seed=0, workers=1)


def test_only_training_split_photos_carry_the_plates(datasets):
    from models.ocr.pasted_crops import _photos

    root, _ = datasets
    names = sorted(p.name for p, _ in _photos(root))
    assert names == sorted([_name(False, 0), _name(False, 50)])
