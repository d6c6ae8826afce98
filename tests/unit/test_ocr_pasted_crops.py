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


def test_the_final_cut_finds_at_least_the_detectors_plates_cut_as_the_gateway_reads_them(paste_datasets):
    root, rows = paste_datasets
    detector_x, detector_y = pasted_crops(rows, root, copies=2, seed=3, widths=(70, 110), workers=1)
    x, y = pasted_crops(rows, root, copies=2, seed=3, widths=(70, 110), workers=1, cut="final")
    # the same frames: a plate the detector finds is cut either way (the detector's cut where no
    # reading passes), one only a closer look found as well; where the reading chose another box
    # the cut differs
    assert len(y) >= len(detector_y) and set(y) <= {t for _, t in rows}
    assert x.shape[1:] == detector_x.shape[1:] and x.dtype == np.uint8
    assert len(y) > len(detector_y) or not np.array_equal(x, detector_x)
    with pytest.raises(ValueError, match="cut must be"):
        pasted_crops(rows, root, copies=1, seed=3, workers=1, cut="closer")


def test_without_the_photo_sets_it_says_what_is_missing(tmp_path, paste_datasets):
    _, rows = paste_datasets
    with pytest.raises(FileNotFoundError, match="kaggle-cars"):
        pasted_crops(rows, tmp_path, copies=1, seed=0, workers=1)


def test_only_training_split_photos_carry_the_plates(paste_datasets, paste_training_photos):
    from models.synth.paste_sources import us_plate_photos

    root, _ = paste_datasets
    names = sorted(p.name for p, _ in us_plate_photos(root))
    assert names == paste_training_photos
