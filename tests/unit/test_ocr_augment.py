"""The OCR's training views, real and synthetic: distant plates at the widths asked for."""

import argparse

import numpy as np
import pytest

from models.ocr import data
from models.ocr.train import _width_range
from models.synth.camera import ocr_sample
from models.synth.plates import render_plate


@pytest.fixture(scope="module")
def crop():
    plate, _, _ = render_plate(np.random.default_rng(5), style={"kind": "standard"})
    return plate  # about 300 px wide, as most us-crops are


def _widths(crop, widths, n=60):
    rng = np.random.default_rng(0)
    return np.array([data.augment_real(rng, crop, widths).shape[1] for _ in range(n)])


def test_default_views_range_from_50_px_to_the_crops_own_width(crop):
    w = _widths(crop, None)
    assert w.min() >= 45 and w.max() > 150


def test_a_width_range_shrinks_every_view_into_it(crop):
    # the re-cut margin makes a view up to a fifth wider than the plate's target width
    w = _widths(crop, (40, 60))
    assert w.min() >= 36 and w.max() <= 75
    assert (w < 50).any() and (w > 55).any()


def test_synthetic_plates_at_a_width_range():
    rng = np.random.default_rng(1)
    small = [ocr_sample(rng, widths=(40, 60))[0].shape[1] for _ in range(40)]
    rng = np.random.default_rng(1)
    default = [ocr_sample(rng)[0].shape[1] for _ in range(40)]
    # a loose cut adds up to two fifths of the plate's width
    assert min(small) >= 36 and max(small) <= 90
    assert min(default) >= 50 and max(default) > 150


def test_width_range_option_is_checked():
    assert _width_range("40,120") == (40, 120)
    for bad in ("40", "120,40", "a,b", "4,10"):
        with pytest.raises(argparse.ArgumentTypeError):
            _width_range(bad)
