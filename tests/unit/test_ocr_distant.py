"""The OCR's second file: narrow cuts are read by both files, averaged; wide ones by the first alone."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from gateway.config import RecognitionConfig
from gateway.recognition.litert import ModelLoadError
from gateway.recognition.ocr_tflite import (
    DEFAULT_DISTANT_MODEL,
    DEFAULT_MODEL,
    DISTANT_BELOW_PX,
    TfliteOcr,
)
from gateway.recognition.recognizer import Recognizer
from models.synth.camera import ocr_sample

pytestmark = pytest.mark.skipif(not (DEFAULT_MODEL.is_file() and DEFAULT_DISTANT_MODEL.is_file()),
                                reason="models/ocr/*.tflite not built")


def _crop(width: int) -> np.ndarray:
    crop = ocr_sample(np.random.default_rng(width))[0]
    return cv2.resize(crop, (width, max(8, round(crop.shape[0] * width / crop.shape[1]))),
                      interpolation=cv2.INTER_AREA)


def test_narrow_cuts_average_both_files_and_wide_ones_read_the_first():
    first = TfliteOcr(DEFAULT_MODEL, distant_below=0)
    distant = TfliteOcr(DEFAULT_DISTANT_MODEL, distant_below=0)
    both = TfliteOcr()
    assert both.distant_below == DISTANT_BELOW_PX

    narrow = _crop(DISTANT_BELOW_PX - 30)
    a, b = first.probabilities(narrow), distant.probabilities(narrow)
    assert np.abs(a - b).max() > 0.01  # two different files, or the test says nothing
    np.testing.assert_allclose(both.probabilities(narrow), (a + b) / 2, atol=1e-6)

    wide = _crop(DISTANT_BELOW_PX + 40)
    np.testing.assert_array_equal(both.probabilities(wide), first.probabilities(wide))
    result = both.read(narrow)
    assert result.candidates[0].text == result.text and len(result.char_confidences) == len(result.text)


def test_a_model_given_alone_reads_every_cut_and_pairs_only_when_named():
    assert TfliteOcr(DEFAULT_MODEL).distant is None
    paired = TfliteOcr(DEFAULT_MODEL, distant_model_path=DEFAULT_DISTANT_MODEL)
    assert paired.distant is not None and paired.distant_below == DISTANT_BELOW_PX


def test_a_missing_distant_file_names_itself(tmp_path):
    missing = tmp_path / "ocr_distant.tflite"
    with pytest.raises(ModelLoadError, match="ocr_distant.tflite"):
        TfliteOcr(distant_model_path=missing)
    # switched off, the file is not needed
    assert TfliteOcr(distant_model_path=missing, distant_below=0).distant is None


def test_the_gateway_config_switches_it():
    assert RecognitionConfig().distant_ocr_below_px == DISTANT_BELOW_PX
    on = Recognizer.from_config(RecognitionConfig())
    off = Recognizer.from_config(RecognitionConfig(distant_ocr_below_px=0))
    assert on.ocr.distant is not None and on.ocr.distant_below == DISTANT_BELOW_PX
    assert off.ocr.distant is None


def test_the_commands_options_make_the_same_backend():
    import argparse

    from tools.cli import ocr_options

    p = argparse.ArgumentParser()
    ocr_options.add(p)
    assert ocr_options.create(p.parse_args([])).distant_below == DISTANT_BELOW_PX
    assert ocr_options.create(p.parse_args(["--distant-below", "0"])).distant is None
    assert ocr_options.create(p.parse_args(["--model", str(DEFAULT_MODEL)])).distant is None
    paired = ocr_options.create(p.parse_args(["--model", str(DEFAULT_MODEL), "--ocr-distant-model",
                                              str(DEFAULT_DISTANT_MODEL), "--distant-below", "80"]))
    assert paired.distant is not None and paired.distant_below == 80


def test_a_broken_shipped_second_file_leaves_the_first_reading(tmp_path, monkeypatch, caplog):
    """The second file only helps small plates: a broken install must not stop the car reading."""
    from gateway.recognition import ocr_tflite

    broken = tmp_path / "ocr_distant.tflite"
    broken.write_bytes(b"not a model")
    monkeypatch.setattr(ocr_tflite, "DEFAULT_DISTANT_MODEL", broken)
    with caplog.at_level("ERROR", logger="gateway.recognition.ocr_tflite"):
        backend = TfliteOcr()
    assert backend.distant is None and backend.distant_below == 0
    assert "ocr_distant.tflite" in caplog.text and "reinstalled" in caplog.text
    described = backend.describe()
    assert described["distant_model"] is None and "ocr_distant.tflite" in described["problems"][0]
    assert TfliteOcr().describe() == {"backend": "tflite", "model": "ocr.tflite", "distant_model": None,
                                      "distant_below_px": 0, "problems": described["problems"]}
    narrow = _crop(DISTANT_BELOW_PX - 30)
    np.testing.assert_array_equal(backend.probabilities(narrow),
                                  TfliteOcr(DEFAULT_MODEL, distant_below=0).probabilities(narrow))
