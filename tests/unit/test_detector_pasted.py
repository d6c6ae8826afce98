"""Detector training scenes: real-like US plates pasted small into dash-camera frames, labelled."""

import numpy as np
import pytest

from models.detector.pasted import SOURCE, _visible, pasted_scenes


def test_each_crop_becomes_frames_labelled_with_its_plate(paste_datasets):
    root, rows = paste_datasets
    samples = pasted_scenes(rows, root, copies=2, seed=5, widths=(40, 80))
    assert len(samples) == 2 * len(rows)
    for s in samples:
        h, w = s.image.shape[:2]
        assert s.source == SOURCE and s.corners is None
        assert s.texts[0] in {t for _, t in rows} and len(s.texts) == len(s.boxes)
        x, y, bw, bh = s.boxes[0]
        assert 0 <= x and 0 <= y and x + bw <= w + 1 and y + bh <= h + 1
        # 40-80 px in a 640-1920 px wide frame, kept at up to twice the letterbox scale
        assert 25 <= bw <= 81 and s.zoom in (pytest.approx(1.25), pytest.approx(2.0))
        assert s.image[int(y):int(y + bh), int(x):int(x + bw)].std() > 10  # the plate, not a blank
    again = pasted_scenes(rows, root, copies=2, seed=5, widths=(40, 80))
    assert all(np.array_equal(a.image, b.image) and np.array_equal(a.boxes, b.boxes) for a, b in zip(samples, again, strict=True))


def test_background_plates_stay_labelled_unless_the_vehicle_covers_them():
    region = (100, 0, 100, 100)  # the pasted vehicle's region
    boxes = np.array([[10, 10, 40, 20], [120, 10, 40, 20], [85, 50, 40, 20]], np.float32)
    kept = _visible(boxes, region)
    assert kept.tolist() == [[10, 10, 40, 20]]  # the third is 3/8 painted over


def test_without_the_photo_sets_it_says_what_is_missing(tmp_path, paste_datasets):
    _, rows = paste_datasets
    with pytest.raises(FileNotFoundError, match="kaggle-cars"):
        pasted_scenes(rows, tmp_path, copies=1, seed=0)


def test_training_on_pasted_plates_needs_the_datasets(tmp_path):
    from models.detector.train import main

    with pytest.raises(SystemExit, match="--pasted-us needs --datasets"):
        main(["--pasted-us", str(tmp_path), "--out", str(tmp_path / "d.tflite"), "--steps", "1"])


def test_the_pasted_and_real_shares_cannot_exceed_the_whole(tmp_path):
    from models.detector.train import main

    with pytest.raises(SystemExit, match="--pasted-fraction must be 0-0.5"):
        main(["--datasets", str(tmp_path), "--pasted-us", str(tmp_path), "--pasted-fraction", "0.6",
              "--out", str(tmp_path / "d.tflite"), "--steps", "1"])
