"""OCR training samples: real-like plates put small on vehicles of other photos, cut by the detector."""

import numpy as np
import pytest

from gateway.recognition.ocr_input import INPUT_H, INPUT_W
from models.ocr.pasted_crops import pasted_crops


def test_each_crop_is_cut_by_the_detector_from_a_frame(paste_datasets):
    root, rows = paste_datasets
    x, y = pasted_crops(rows, root, copies=2, seed=3, widths=(70, 110), workers=1)
    assert x.shape == (len(y), INPUT_H, INPUT_W) and x.dtype == np.uint8
    # the detector finds most of them at 70-110 px; the texts are the crops' own
    assert 5 <= len(y) <= 8
    assert set(y) <= {t for _, t in rows}
    assert x.std() > 10
    x2, y2 = pasted_crops(rows, root, copies=2, seed=3, widths=(70, 110), workers=1)
    assert y2 == y and np.array_equal(x2, x)


def test_without_the_photo_sets_it_says_what_is_missing(tmp_path, paste_datasets):
    _, rows = paste_datasets
    with pytest.raises(FileNotFoundError, match="kaggle-cars"):
        pasted_crops(rows, tmp_path, copies=1, seed=0, workers=1)


def test_only_training_split_photos_carry_the_plates(paste_datasets, paste_training_photos):
    from models.synth.paste_sources import us_plate_photos

    root, _ = paste_datasets
    names = sorted(p.name for p, _ in us_plate_photos(root))
    assert names == paste_training_photos
