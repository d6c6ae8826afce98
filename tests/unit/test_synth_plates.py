"""The synthetic plate generator: seeded, valid labels, the documented contract."""

import numpy as np
import pytest

from models.synth.camera import camera_view, ocr_sample
from models.synth.plates import PLATE_H, render_plate
from models.synth.texts import ALPHABET


def test_same_seed_same_plate():
    a = render_plate(np.random.default_rng(11))
    b = render_plate(np.random.default_rng(11))
    assert a[1] == b[1]
    assert np.array_equal(a[0], b[0])
    c = render_plate(np.random.default_rng(12))
    assert not np.array_equal(a[0], c[0])


def test_plates_are_valid_images_with_plate_labels():
    rng = np.random.default_rng(1)
    kinds = set()
    for _ in range(40):
        img, text, meta = render_plate(rng)
        kinds.add(meta["kind"])
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
        assert img.shape[0] == PLATE_H
        assert 1.6 < img.shape[1] / img.shape[0] < 2.1
        assert 2 <= len(text) <= 8
        assert set(text) <= set(ALPHABET)
        x0, y0, x1, y1 = meta["char_box"]
        assert 0 <= x0 < x1 <= img.shape[1] and 0 <= y0 < y1 <= img.shape[0]
    assert {"standard", "vanity"} <= kinds


def test_given_text_and_style_are_drawn():
    img, text, meta = render_plate(np.random.default_rng(3), "ABC 1234", {"kind": "motorcycle", "stack": True})
    assert text == "ABC1234"
    assert meta["kind"] == "motorcycle" and len(meta["stack"]) >= 2
    # the registration is drawn: the character box is not plain background
    x0, y0, x1, y1 = meta["char_box"]
    assert img[y0:y1, x0:x1].std() > 20


def test_bad_text_is_refused():
    with pytest.raises(ValueError):
        render_plate(np.random.default_rng(0), "AB$1")
    with pytest.raises(ValueError):
        render_plate(np.random.default_rng(0), "ABCDEFGHIJK")


def test_camera_view_shrinks_to_requested_width():
    rng = np.random.default_rng(5)
    plate, _, _ = render_plate(rng)
    small = camera_view(rng, plate, width=60)
    assert small.dtype == np.uint8 and small.shape[2] == 3
    # the plate is ~60 px wide, plus at most a modest margin
    assert 50 <= small.shape[1] <= 110
    assert small.shape[0] < small.shape[1]


def test_ocr_samples_vary_in_size():
    rng = np.random.default_rng(9)
    widths = [ocr_sample(rng)[0].shape[1] for _ in range(25)]
    assert min(widths) < 110 < max(widths)
