"""Which detections become reads: the reading floor, and the lower floor for a plate the detector is sure of."""

import numpy as np
import pytest

from gateway.recognition import recognizer
from gateway.recognition.detector import Detection, DetectorBackend
from gateway.recognition.ocr import Candidate, OcrBackend, OcrResult
from gateway.recognition.recognizer import Recognizer


class OneDetection(DetectorBackend):  # no name: not registered as a backend
    def __init__(self, score):
        self.score = score

    def detect(self, frame_bgr):
        return [Detection((100, 100, 90, 30), self.score)]


class FixedReading(OcrBackend):
    def __init__(self, text, confidence):
        self.result = OcrResult(text, confidence, [], [Candidate(text, confidence)])

    def read(self, crop_bgr):
        return self.result


FRAME = np.zeros((480, 640, 3), np.uint8)


def _texts(score, text, confidence, **kwargs):
    rec = Recognizer(OneDetection(score), FixedReading(text, confidence), closer_look=False, **kwargs)
    return [r.text for r in rec.read_frame(FRAME)]


def test_an_unsure_reading_of_a_doubtful_detection_is_no_read():
    # a 7-character plate in a standard format keeps the OCR's confidence
    assert _texts(0.6, "7ABC123", 0.03) == ["7ABC123"]
    assert _texts(0.6, "7ABC123", 0.01) == []
    assert _texts(0.6, "7ABC123", 0.01, min_read=0.005) == ["7ABC123"]


def test_a_plate_the_detector_is_sure_of_needs_a_tenth_of_the_floor():
    sure = recognizer.SURE_PLATE_SCORE
    floor = recognizer.MIN_READ * recognizer.SURE_PLATE_READ_SHARE
    assert _texts(sure, "7ABC123", floor * 1.5) == ["7ABC123"]
    assert _texts(sure, "7ABC123", floor * 0.5) == []
    # the department's floor still governs: raised, it raises this one too
    assert _texts(sure, "7ABC123", floor * 1.5, min_read=0.2) == []


@pytest.mark.parametrize("score", [0.6, 0.95])
def test_no_text_or_a_short_unsure_one_is_never_a_read(score):
    assert _texts(score, "", 0.9) == []
    assert _texts(score, "AB1", 0.3) == []  # a badge or a sign
