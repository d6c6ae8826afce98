"""Which box a plate is reported with after the closer look: a distant plate is looked at again
however surely it read, the closer look's smaller box is kept where it reads the same, and a box
its characters show too wide is looked at once more (`recognizer._looked_closer`)."""

import numpy as np
import pytest

from gateway.recognition import recognizer
from gateway.recognition.detector import Detection, DetectorBackend
from gateway.recognition.ocr import Candidate, OcrBackend, OcrResult
from gateway.recognition.recognizer import Recognizer

FRAME = np.zeros((480, 640, 3), np.uint8)
FIRST_BOX = (100, 100, 160, 64)
SEEN = 0.4  # the pass's scale: the first box is seen 64 px wide, under SMALL_PLATE_PX


class TighterEachLook(DetectorBackend):
    """One detection; each closer look draws a box half as wide and high, centred in the one looked at."""

    def __init__(self, score=0.7, seen=SEEN):
        self.score, self.seen, self.looked_at = score, seen, []

    def detect(self, frame_bgr):
        return [Detection(FIRST_BOX, self.score)]

    def seen_width(self, det):
        return det.box[2] * self.seen

    def look_closer(self, frame_bgr, det):
        self.looked_at.append(det.box)
        x, y, w, h = det.box
        return Detection((x + w // 4, y + h // 4, w // 2, h // 2), det.score)


class ReadsByWidth(OcrBackend):
    """Reads `first` from a crop at least as wide as the first box's, `closer` from narrower ones;
    its characters lie between `span` of the crop's width."""

    def __init__(self, first, closer, span=(0.12, 0.88)):
        self.first, self.closer = first, closer
        self.positions = list(np.linspace(*span, 7))

    def read(self, crop_bgr):
        text, confidence = self.first if crop_bgr.shape[1] >= FIRST_BOX[2] else self.closer
        return OcrResult(text, confidence, [confidence] * len(text), [Candidate(text, confidence)],
                         self.positions[:len(text)])


def _read(detector, ocr):
    reads = Recognizer(detector, ocr).read_frame(FRAME)
    assert len(reads) == 1
    return reads[0].text, reads[0].detection.box


def test_a_distant_plate_read_surely_is_reported_with_the_closer_looks_smaller_box():
    detector = TighterEachLook()
    # the closer look reads the same text, a little less surely: its box is kept
    assert _read(detector, ReadsByWidth(("7ABC123", 0.9), ("7ABC123", 0.8))) == ("7ABC123", (140, 116, 80, 32))
    assert detector.looked_at == [FIRST_BOX]


@pytest.mark.parametrize("closer", [("7ABC12", 0.8), ("7ABC124", 0.2)])
def test_a_closer_look_that_reads_otherwise_and_worse_leaves_the_first_reading_and_its_box(closer):
    assert _read(TighterEachLook(), ReadsByWidth(("7ABC123", 0.9), closer)) == ("7ABC123", FIRST_BOX)


def test_a_closer_look_that_reads_better_gives_its_reading_and_box():
    assert _read(TighterEachLook(), ReadsByWidth(("7ABC12", 0.3), ("7ABC123", 0.9))) == ("7ABC123", (140, 116, 80, 32))


def test_a_plate_seen_large_and_read_surely_is_not_looked_at_again():
    detector = TighterEachLook(seen=1.0)
    assert _read(detector, ReadsByWidth(("7ABC123", 0.9), ("7ABC123", 0.95))) == ("7ABC123", FIRST_BOX)
    assert detector.looked_at == []


def test_a_doubtful_small_detection_read_surely_is_not_looked_at_again():
    # under SMALL_LOOK_SCORE most small detections are lights and signs: not worth the look
    detector = TighterEachLook(score=recognizer.SMALL_LOOK_SCORE - 0.1)
    assert _read(detector, ReadsByWidth(("7ABC123", 0.9), ("7ABC123", 0.95))) == ("7ABC123", FIRST_BOX)
    assert detector.looked_at == []


@pytest.mark.parametrize("span, looks", [
    ((0.12, 0.88), 1),  # the characters fill the closer look's cut: its box fits them
    ((0.35, 0.65), 2),  # they fill a third of it: narrowed, and looked at once more around the narrower box
])
def test_a_closer_box_the_characters_show_too_wide_is_looked_at_once_more(span, looks):
    detector = TighterEachLook()
    text, box = _read(detector, ReadsByWidth(("7ABC123", 0.9), ("7ABC123", 0.9), span))
    assert text == "7ABC123" and len(detector.looked_at) == looks
    # the second look is around the kept reading's box, narrowed from the closer look's
    assert detector.looked_at[0] == FIRST_BOX
    if looks == 2:
        assert detector.looked_at[1][2] < recognizer.LOOK_AGAIN_NARROWER * FIRST_BOX[2] // 2
