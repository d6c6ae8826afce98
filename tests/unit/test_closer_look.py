"""The closer look: the detector again, on a window around one plate, mends a box that cut it."""

import numpy as np
import pytest

from gateway.recognition import recognizer
from gateway.recognition.boxes import iou
from gateway.recognition.closer_look import TARGET_PX, WINDOW_H, WINDOW_W
from gateway.recognition.detector import Detection
from gateway.recognition.detector_tflite import TfliteDetector
from gateway.recognition.recognizer import Recognizer, create_ocr
from models.synth.scenes import render_scenes


@pytest.fixture(scope="module")
def scenes():
    return render_scenes(11, 12, 1280, 720, n_plates=1, min_plate_px=70, max_plate_px=160, night=False)


@pytest.fixture(scope="module")
def detector():
    return TfliteDetector()


def _inside(box, window):
    x, y, w, h = box
    x0, y0, x1, y1 = window
    return x0 <= x and y0 <= y and x + w <= x1 and y + h <= y1


def test_the_window_shows_the_box_whole_at_the_target_size(detector):
    look = detector.closer
    x0, y0, x1, y1, s = look.window((500, 300, 80, 25), (720, 1280))
    assert s == pytest.approx(TARGET_PX / 80)
    assert _inside((500, 300, 80, 25), (x0, y0, x1, y1))
    assert (x1 - x0) * s <= WINDOW_W + 1 and (y1 - y0) * s <= WINDOW_H + 1
    # a square (motorcycle) plate: smaller than the target, but whole
    x0, y0, x1, y1, s = look.window((500, 300, 60, 60), (720, 1280))
    assert _inside((500, 300, 60, 60), (x0, y0, x1, y1)) and (y1 - y0) * s <= WINDOW_H + 1
    # at the frame's corner the window is cut to the frame
    x0, y0, x1, y1, _ = look.window((0, 690, 80, 30), (720, 1280))
    assert x0 == 0 and y1 == 720


@pytest.mark.parametrize("kind", ["shifted", "too wide"])
def test_a_misplaced_box_is_mended(detector, scenes, kind):
    mended = 0
    for img, plates in scenes:
        x, y, w, h = plates[0].box
        bad = (x + 0.35 * w, y, w, h) if kind == "shifted" else (x - 0.4 * w, y - 0.2 * h, 1.8 * w, 1.4 * h)
        bad = tuple(int(round(v)) for v in bad)
        closer = detector.look_closer(img, Detection(bad, 0.9))
        if closer is not None:
            mended += iou(closer.box, plates[0].box) >= 0.6
            assert closer.score == 0.9  # the first detection's score: the window is not a fair view of it
    # measured: IoU 0.48 (shifted) or 0.40 (too wide) before, 0.67-0.96 after; the thirteenth
    # session's network finds no plate in one "too wide" window of the 12
    assert mended >= len(scenes) - 1


def test_nothing_is_made_up_where_there_is_no_plate(detector):
    sky = np.full((720, 1280, 3), 200, np.uint8)
    assert detector.look_closer(sky, Detection((600, 300, 90, 30), 0.9)) is None


class CuttingDetector(TfliteDetector):
    """The shipped detector, whose box for each plate is shifted right by 30 % of its width,
    as the network's boxes for plates outside its best sizes sometimes are."""

    def __init__(self, truth, shift=0.3):
        super().__init__()
        self.truth, self.shift, self.looks = truth, shift, 0

    def detect(self, frame_bgr):
        x, y, w, h = self.truth
        return [Detection((int(x + self.shift * w), int(y), int(w), int(h)), 0.9)]

    def look_closer(self, frame_bgr, det):
        self.looks += 1
        return super().look_closer(frame_bgr, det)


def test_a_plate_whose_box_cut_its_first_characters_is_read_whole(scenes):
    ocr = create_ocr()

    def read(closer_look, shift):
        read_whole, looks = set(), 0
        for k, (img, plates) in enumerate(scenes):
            det = CuttingDetector(plates[0].box, shift)
            texts = [r.text for r in Recognizer(det, ocr, closer_look=closer_look).read_frame(img)]
            if plates[0].text in texts:
                read_whole.add(k)
            looks += det.looks
        return read_whole, looks

    without, no_looks = read(False, 0.3)
    with_look, looks = read(True, 0.3)
    # measured: 1 of 12 read exactly from the cut boxes, 9-10 after the closer look
    assert no_looks == 0 and looks >= 10
    assert len(with_look) >= 8 and len(without) <= 3
    # boxes that fit: readings as sure as CLOSER_LOOK_BELOW are kept without a second look
    # (measured: 7 of 12 looked at again against 12 of 12), and the look spoils none. 7 of
    # 12 read without it; with it 10 (fifth session's OCR) or 8 (sixth session's: on 80
    # scenes of another seed it reads 60 against 59)
    plain, _ = read(False, 0.0)
    fitted, fitted_looks = read(True, 0.0)
    assert plain <= fitted and len(fitted) >= 8 and fitted_looks < looks


class RoughDetector(TfliteDetector):
    """The shipped detector, whose box for a distant plate is 1.8 times too wide and 1.4 times
    too tall, as the fine pass's boxes for plates it sees under ~60 px often are."""

    def __init__(self, truth, score):
        super().__init__()
        self.truth, self.score, self.looks = truth, score, 0

    def detect(self, frame_bgr):
        super().detect(frame_bgr)  # the passes take this frame's size (seen_width reads it)
        x, y, w, h = self.truth
        self.first = Detection((int(x - 0.4 * w), int(y - 0.2 * h), int(1.8 * w), int(1.4 * h)), self.score)
        return [self.first]

    def look_closer(self, frame_bgr, det):
        self.looks += det is self.first  # plates looked at: a second look around a narrowed box is not one more
        return super().look_closer(frame_bgr, det)


def test_a_distant_plate_is_looked_at_again_however_badly_it_first_read(monkeypatch):
    far = render_scenes(12, 12, 1920, 1080, n_plates=1, min_plate_px=55, max_plate_px=65, night=False)
    ocr = create_ocr()

    def read(score):
        exact = looks = 0
        for img, plates in far:
            det = RoughDetector(plates[0].box, score)
            exact += plates[0].text in [r.text for r in Recognizer(det, ocr).read_frame(img)]
            looks += det.looks
        return exact, looks

    # the first readings of these boxes rank 0.00-0.05: most under CLOSER_LOOK_FROM
    # (the look inside a box no reading passes would read most of them too: this is the closer look's test)
    monkeypatch.setattr(recognizer, "INSIDE_LOOK_PX", 10**6)
    fairly_sure = (recognizer.SMALL_LOOK_SCORE + recognizer.SURE_PLATE_SCORE) / 2
    sure_small, looks = read(fairly_sure)
    # every plate seen under SMALL_PLATE_PX is looked at again; one rough box here (GW5532) is
    # seen at 76 px, and is looked at only where its first reading ranks in the closer look's
    # range, which it does with OpenCV 5.0 and not with 5.1
    assert looks >= len(far) - 1
    unsure_small, few_looks = read(0.5)  # a detection this weak is more often a light or a sign
    monkeypatch.setattr(recognizer, "SMALL_PLATE_PX", 0)
    not_small, _ = read(fairly_sure)
    # a detection the detector is sure of is looked at again at any size
    sure_plate, sure_looks = read(0.9)
    # measured: 6 of 12 read exactly after the look with OpenCV 5.0 and 5 with 5.1, 4 without
    # it with both (the twelfth session's network: 8 and 3)
    assert sure_small >= 5 and not_small <= 4 and unsure_small <= 4 and sure_small > not_small
    assert few_looks < looks
    # one rough box here (LRM080) reads 0.67 sure from the cut its characters narrow it to with
    # the packages of December 2026, and so needs no look (with those of November it did)
    assert sure_looks >= len(far) - 1 and sure_plate >= 6


class EnclosingDetector(TfliteDetector):
    """The shipped detector, whose box for a small plate takes in its surroundings (a light bar,
    a dealer frame): twice the plate's width and height, the plate off its centre."""

    def __init__(self, truth):
        super().__init__()
        self.truth, self.inside_looks = truth, 0

    def detect(self, frame_bgr):
        return [Detection(_enclosing(self.truth), 0.85)]

    def look_inside(self, frame_bgr, det):
        self.inside_looks += 1
        return super().look_inside(frame_bgr, det)


def _enclosing(box):
    x, y, w, h = box
    return int(x - 0.3 * w), int(y - 0.6 * h), int(2.1 * w), int(2.0 * h)


@pytest.fixture(scope="module")
def small_scenes():
    return render_scenes(13, 12, 1280, 720, n_plates=1, min_plate_px=45, max_plate_px=60, night=False)


def test_a_small_plate_is_found_inside_a_box_that_took_in_its_surroundings(detector, small_scenes):
    inside = closer = 0
    for img, plates in small_scenes:
        big = Detection(_enclosing(plates[0].box), 0.85)  # IoU 0.24 with the plate
        found = detector.look_inside(img, big)
        inside += found is not None and iou(found.box, plates[0].box) >= 0.5
        again = detector.look_closer(img, big)
        closer += again is not None and iou(again.box, plates[0].box) >= 0.5
    # measured: 10 of 12 inside, 1 of 12 by the closer look (it scales by the box, so it sees
    # the plate as small as the first pass did)
    assert inside >= 8 and closer <= 3
    sky = np.full((720, 1280, 3), 200, np.uint8)
    assert detector.look_inside(sky, Detection((600, 300, 120, 50), 0.9)) is None


def test_a_plate_no_reading_of_its_large_box_passes_is_read_from_inside(small_scenes, monkeypatch):
    ocr = create_ocr()

    def read():
        exact = looks = 0
        for img, plates in small_scenes:
            det = EnclosingDetector(plates[0].box)
            exact += plates[0].text in [r.text for r in Recognizer(det, ocr).read_frame(img)]
            looks += det.inside_looks
        return exact, looks

    with_look, looks = read()
    monkeypatch.setattr(recognizer, "INSIDE_LOOK_PX", 10**6)
    without, no_looks = read()
    # measured: 5 of 12 read exactly with the look inside, 1 without (by the closer look, and
    # that plate is not looked inside: its reading passed)
    assert with_look >= 4 and without <= 2 and no_looks == 0 and 9 <= looks <= 12
