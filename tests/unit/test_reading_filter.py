"""Which detections become reads: the reading floor, the lower floor for a plate the detector is sure of,
and the plate inside a detection (`Detection.inner`) read in its place when it reads better."""

import numpy as np
import pytest

from gateway.recognition import formats, recognizer
from gateway.recognition.detector import Detection, DetectorBackend
from gateway.recognition.ocr import Candidate, OcrBackend, OcrResult
from gateway.recognition.recognizer import PlateRead, Recognizer


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
    assert _texts(score, "AB1", 0.2) == []  # a badge or a sign
    assert _texts(score, "V8", 0.4) == []


def test_a_three_character_plate_the_detector_is_sure_of_needs_less_to_be_read():
    # a vanity plate seen small reads 0.3-0.5 sure once ranked; from a doubtful detection it is
    # still dropped (`UNI` fits no state format, so ranking lowers the OCR's confidence)
    def ocr_confidence(ranked):
        return ranked / formats.rank([("UNI", 1.0)], [])[0][1]

    sure = recognizer.SURE_PLATE_SCORE
    assert _texts(sure, "UNI", ocr_confidence(0.4)) == ["UNI"]
    assert _texts(0.6, "UNI", ocr_confidence(0.4)) == []
    assert _texts(sure, "UNI", ocr_confidence(recognizer.MIN_SHORT_READ_SURE_PLATE * 0.8)) == []
    assert _texts(0.6, "UNI", ocr_confidence(recognizer.MIN_SHORT_READ * 1.1)) == ["UNI"]


class ReadsBySize(OcrBackend):
    """Reads a wide crop (a box far too large for its plate) worse than a tight one."""

    def __init__(self, wide, tight):
        self.wide, self.tight = wide, tight

    def read(self, crop_bgr):
        text, confidence = self.wide if crop_bgr.shape[1] > 120 else self.tight
        return OcrResult(text, confidence, [], [Candidate(text, confidence)])


class LargeBoxWithInner(DetectorBackend):
    def detect(self, frame_bgr):
        return [Detection((100, 100, 180, 60), 0.9, inner=Detection((140, 115, 90, 30), 0.9))]


@pytest.mark.parametrize("wide, tight, expected", [
    (("7ABC12", 0.1), ("7ABC123", 0.6), ("7ABC123", (140, 115, 90, 30))),  # the inner plate reads better
    (("7ABC123", 0.6), ("ABC1", 0.2), ("7ABC123", (100, 100, 180, 60))),  # a piece of the plate: the whole wins
])
def test_the_plate_inside_a_detection_is_read_and_the_better_reading_kept(wide, tight, expected):
    rec = Recognizer(LargeBoxWithInner(), ReadsBySize(wide, tight), closer_look=False)
    assert [(r.text, r.detection.box) for r in rec.read_frame(FRAME)] == [expected]


def test_a_second_reading_the_filter_would_drop_does_not_replace_one_it_keeps():
    # the inner cut ranks higher but has lost characters: taken, the plate would be dropped as
    # too short a reading; the whole plate's reading is kept instead
    rec = Recognizer(LargeBoxWithInner(), ReadsBySize(("7ABC123", 0.1), ("ABC", 0.3)), closer_look=False)
    assert [(r.text, r.detection.box) for r in rec.read_frame(FRAME)] == [("7ABC123", (100, 100, 180, 60))]
    # and when neither is kept, nothing is
    rec = Recognizer(LargeBoxWithInner(), ReadsBySize(("7ABC123", 0.001), ("ABC", 0.3)), closer_look=False)
    assert rec.read_frame(FRAME) == []


class PieceWithAlternative(DetectorBackend):
    """A piece of a plate won the merge; the other pass's box of the whole plate is its alternative."""

    def __init__(self, alternative_score=0.7):
        self.alternative_score = alternative_score

    def detect(self, frame_bgr):
        whole = Detection((100, 100, 180, 60), self.alternative_score)
        return [Detection((140, 115, 90, 30), 0.6, alternative=whole)]


@pytest.mark.parametrize("wide, tight, expected", [
    (("7ABC123", 0.6), ("ABC", 0.3), [("7ABC123", (100, 100, 180, 60))]),  # the piece reads too little: the whole
    (("7ABC124", 0.9), ("7ABC123", 0.6), [("7ABC123", (140, 115, 90, 30))]),  # the piece reads: not read again
])
def test_the_other_passs_box_is_read_where_the_winning_box_reads_nothing_kept(wide, tight, expected):
    rec = Recognizer(PieceWithAlternative(), ReadsBySize(wide, tight), closer_look=False)
    assert [(r.text, r.detection.box) for r in rec.read_frame(FRAME)] == expected
    # an alternative the detector is less than SMALL_LOOK_SCORE sure of is not worth the reading
    unsure = PieceWithAlternative(recognizer.SMALL_LOOK_SCORE - 0.1)
    rec = Recognizer(unsure, ReadsBySize(wide, tight), closer_look=False)
    assert [r.text for r in rec.read_frame(FRAME)] == ([] if tight[0] == "ABC" else ["7ABC123"])


class CountsLooksInside(DetectorBackend):
    def __init__(self, box, score):
        self.box, self.score, self.looks = box, score, 0

    def detect(self, frame_bgr):
        return [Detection(self.box, self.score)]

    def look_inside(self, frame_bgr, det):
        self.looks += 1
        x, y, w, h = det.box
        return Detection((x + w // 4, y + h // 4, w // 2, h // 2), det.score)


@pytest.mark.parametrize("box, score, first, looks", [
    ((100, 100, 180, 60), 0.7, ("", 0.0), 1),  # a large, likely box no reading passes: looked inside
    ((100, 100, 180, 60), 0.7, ("7ABC123", 0.6), 0),  # its reading passes: no need
    ((100, 100, 180, 60), 0.7, ("ITSTHELAW", 0.9), 1),  # it passes, but fits no state format: a slogan?
    ((100, 100, 70, 30), 0.7, ("", 0.0), 0),  # too narrow for a readable plate half its width
    ((100, 100, 180, 60), 0.42, ("", 0.0), 0),  # too unsure to be read at all: most are signs
])
def test_a_large_box_no_reading_passes_or_read_outside_the_formats_is_looked_inside(box, score, first, looks):
    det = CountsLooksInside(box, score)
    rec = Recognizer(det, ReadsBySize(first, ("7ABC123", 0.6)), closer_look=True)
    reads = rec.read_frame(FRAME)
    assert det.looks == looks
    if looks:  # the plate inside reads and is kept, with its own box
        assert [(r.text, r.detection.box) for r in reads] == [("7ABC123", (145, 115, 90, 30))]


def test_of_two_readings_that_disagree_the_text_both_back_more_is_kept():
    det = Detection((100, 100, 90, 30), 0.9)
    rec = Recognizer(OneDetection(0.9), FixedReading("7ABC123", 0.5), closer_look=False)
    first = PlateRead(det, [("7ABC123", 0.30), ("7ABC128", 0.25)])
    second = PlateRead(det, [("7ABC128", 0.28), ("7ABC123", 0.02)])
    # 0.53 for 7ABC128 against 0.32, though 7ABC123 ranked itself highest
    assert rec._better_kept(first, second, det) is second
    assert rec._better_kept(second, first, det) is second
    # a text only one reading backs: the better-ranked reading, as before
    other = PlateRead(det, [("7ABC999", 0.29)])
    assert rec._better_kept(first, other, det) is first
    # a reading the filter keeps still wins over one it drops, whatever the votes
    dropped = PlateRead(det, [("7A", 0.45), ("7ABC123", 0.01)])
    assert rec._better_kept(dropped, other, det) is other


class Detections(DetectorBackend):
    def __init__(self, *dets):
        self.dets = dets

    def detect(self, frame_bgr):
        return list(self.dets)


@pytest.mark.parametrize("box, read", [
    ((100, 100, 60, 30), True),  # a distant plate is often a faint detection that reads well
    ((100, 100, 200, 60), False),  # a faint large one is most often a light or a sign
])
def test_a_small_faint_detection_is_read_and_a_large_one_is_not(box, read):
    score = (recognizer.MIN_SMALL_DETECTION_SCORE + recognizer.MIN_DETECTION_SCORE) / 2
    rec = Recognizer(Detections(Detection(box, score)), FixedReading("7ABC123", 0.9), closer_look=False)
    assert [r.text for r in rec.read_frame(FRAME)] == (["7ABC123"] if read else [])
    # below the floor for small ones, nothing is read
    faint = Detection(box, recognizer.MIN_SMALL_DETECTION_SCORE - 0.01)
    assert Recognizer(Detections(faint), FixedReading("7ABC123", 0.9), closer_look=False).read_frame(FRAME) == []


class LooksAroundInner(LargeBoxWithInner):
    """Its closer look around the inner plate draws the plate's own, smaller box."""

    def __init__(self):
        self.around = []

    def look_closer(self, frame_bgr, det):
        self.around.append(det.box)
        x, y, w, h = det.box
        return Detection((x + 5, y + 3, w - 10, h - 6), det.score) if w < 120 else None


def test_an_unsure_reading_of_another_box_is_looked_at_closer_around_that_box():
    det = LooksAroundInner()
    # the large box reads nothing; the inner plate reads unsure: the closer look goes around the
    # inner box (the large box's own look found nothing) and its box is kept with the same text
    rec = Recognizer(det, ReadsBySize(("", 0.0), ("7ABC123", 0.3)), closer_look=True)
    reads = rec.read_frame(FRAME)
    assert det.around == [(100, 100, 180, 60), (140, 115, 90, 30)]
    assert [(r.text, r.detection.box) for r in reads] == [("7ABC123", (145, 118, 80, 24))]
    # read sure from the inner box, it is kept as it is: no look around it
    det = LooksAroundInner()
    rec = Recognizer(det, ReadsBySize(("", 0.0), ("7ABC123", 0.9)), closer_look=True)
    assert [(r.text, r.detection.box) for r in rec.read_frame(FRAME)] == [("7ABC123", (140, 115, 90, 30))]
    assert det.around == [(100, 100, 180, 60)]


class ReadsByBox(OcrBackend):
    """Each box's reading, by the crop's width (rectify keeps the box's size, with its margin)."""

    def __init__(self, by_width):
        self.by_width = by_width

    def read(self, crop_bgr):
        text, confidence = next(v for w, v in self.by_width.items() if abs(crop_bgr.shape[1] - w) < 15)
        return OcrResult(text, confidence, [], [Candidate(text, confidence)])


@pytest.mark.parametrize("readings, second_score, expected", [
    ({90: ("IMJSAYN", 0.39), 60: ("SAYN", 0.41)}, 0.6, ("IMJSAYN", 90)),  # a piece of the plate: the whole
    ({90: ("SAYN", 0.41), 60: ("IMJSAYN", 0.39)}, 0.6, ("IMJSAYN", 60)),
    ({90: ("7ABC123", 0.6), 60: ("7ABC123", 0.7)}, 0.6, ("7ABC123", 90)),  # read twice: the first kept
    # two texts: the detection the detector is surer of, however sure each reading
    ({90: ("7ABC123", 0.3), 60: ("7ABC128", 0.6)}, 0.6, ("7ABC123", 90)),
    ({90: ("7ABC123", 0.6), 60: ("7ABC128", 0.3)}, 0.95, ("7ABC128", 60)),
])
def test_two_detections_of_one_plate_give_one_reading(readings, second_score, expected):
    dets = Detections(Detection((100, 100, 90, 30), 0.9), Detection((125, 102, 60, 26), second_score))
    rec = Recognizer(dets, ReadsByBox(readings), closer_look=False)
    assert [(r.text, r.detection.box[2]) for r in rec.read_frame(FRAME)] == [expected]
    # two plates side by side stay two readings
    apart = Detections(Detection((100, 100, 90, 30), 0.9), Detection((300, 102, 60, 26), second_score))
    assert len(Recognizer(apart, ReadsByBox(readings), closer_look=False).read_frame(FRAME)) == 2


def test_boxes_outside_the_frame_read_nothing_and_break_nothing():
    # a detection and the plate inside it wholly beyond the frame's edge (a stale or corrupt box):
    # neither can be cut, so neither reads, and the closer looks are skipped
    outside = Detections(Detection((700, 500, 180, 60), 0.9, inner=Detection((740, 515, 90, 30), 0.9)))
    rec = Recognizer(outside, FixedReading("7ABC123", 0.3), closer_look=True)
    assert rec.read_frame(FRAME) == []
