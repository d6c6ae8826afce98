"""Narrowing a box that is far wider than the characters read in it (`text_span`)."""

import cv2
import numpy as np
import pytest

from gateway.recognition import text_span
from gateway.recognition.boxes import iou
from gateway.recognition.detector import Detection
from gateway.recognition.recognizer import Recognizer, create_ocr
from models.synth.plates import render_plate


def _positions(n, first, last):
    return list(np.linspace(first, last, n))


def test_characters_in_the_middle_third_narrow_the_box_around_them():
    det = Detection((100, 50, 300, 40), 0.9)
    # seven characters centred in the crop, spanning a third of it
    narrower = text_span.narrowed(det, _positions(7, 0.36, 0.64))
    x, y, w, h = narrower.box
    assert (y, h) == (50, 40)  # the characters say nothing about the height
    assert 0.3 * 300 < w < 0.6 * 300
    assert abs((x + w / 2) - 250) <= 2  # still centred on the characters


def test_a_box_that_fits_its_characters_or_few_characters_is_kept():
    det = Detection((100, 50, 300, 40), 0.9)
    assert text_span.narrowed(det, _positions(7, 0.12, 0.88)) is None
    assert text_span.narrowed(det, _positions(3, 0.45, 0.55)) is None  # a vanity plate or a sign
    assert text_span.narrowed(det, []) is None


def test_characters_off_centre_move_the_box_and_never_widen_it():
    det = Detection((0, 0, 200, 40), 0.9)
    narrower = text_span.narrowed(det, _positions(6, 0.05, 0.3))
    x, _, w, _ = narrower.box
    assert x >= 0 and x + w <= 200 and w < 200
    assert x + w < 100  # the characters lie in the left part


def test_a_tilted_plates_corners_stay_on_its_top_and_bottom_edges():
    corners = np.float32([[100, 60], [400, 40], [400, 80], [100, 100]])
    det = Detection((100, 40, 300, 60), 0.9, corners)
    narrower = text_span.narrowed(det, _positions(7, 0.36, 0.64))
    tl, tr, br, bl = narrower.corners
    for p, (a, b) in ((tl, (corners[0], corners[1])), (tr, (corners[0], corners[1])),
                      (br, (corners[3], corners[2])), (bl, (corners[3], corners[2]))):
        # on the segment a-b: collinear and between
        d, q = b - a, p - a
        assert abs(d[0] * q[1] - d[1] * q[0]) < 1e-3 * float(d @ d)
        assert a[0] <= p[0] <= b[0]
    assert narrower.box[2] < 300


def test_at_the_frames_edge_the_cut_keeps_its_margin_so_the_narrowed_box_lands_on_the_characters():
    """A box touching the frame's left edge: the cut is padded, not clipped, so a character's share
    of the cut maps back to the same frame column as anywhere else in the frame."""
    from gateway.recognition.rectify import MARGIN, rectify

    frame = np.full((200, 640, 3), 200, np.uint8)
    cv2.rectangle(frame, (60, 80), (120, 110), (0, 0, 0), -1)  # the characters, 60 px wide
    for x in (0, 300):
        shifted = np.roll(frame, x, axis=1)
        det = Detection((x, 60, 240, 70), 0.9)
        cut = rectify(shifted, det.box)
        assert cut.shape[1] == 240 + 2 * (round(240 * MARGIN) + 1)
        dark = np.flatnonzero(cut[30].mean(axis=1) < 100)
        positions = _positions(6, (dark[0] + 5) / cut.shape[1], (dark[-1] - 5) / cut.shape[1])
        bx, _, bw, _ = text_span.narrowed(det, positions).box
        assert abs(bx + bw / 2 - (x + 90)) <= 3, x  # centred on the characters, at the edge too


class WideBox:
    """Finds each plate with a box 1.7 times its width and 1.3 times its height (centred), as at
    45-90 px in a dark recess (the median of such boxes on US plates pasted at 50 px)."""

    def __init__(self, box):
        x, y, w, h = box
        self.box = (round(x - 0.35 * w), round(y - 0.15 * h), round(1.7 * w), round(1.3 * h))

    def detect(self, frame_bgr):
        return [Detection(self.box, 0.9)]

    def seen_width(self, det):
        return float(det.box[2])

    def look_closer(self, frame_bgr, det):
        return None

    def look_inside(self, frame_bgr, det):
        return None


@pytest.fixture(scope="module")
def recessed():
    """Clean plates 70-110 px wide in a dark frame, with their boxes and texts."""
    rng = np.random.default_rng(3)
    out = []
    for _ in range(16):
        plate, text, _ = render_plate(rng)
        w = int(rng.integers(70, 110))
        h = round(plate.shape[0] * w / plate.shape[1])
        frame = np.full((720, 1280, 3), 35, np.uint8) + rng.integers(0, 20, (720, 1280, 3), dtype=np.uint8)
        x, y = int(rng.integers(100, 1000)), int(rng.integers(100, 600))
        frame[y:y + h, x:x + w] = cv2.resize(plate, (w, h), interpolation=cv2.INTER_AREA)
        out.append((frame, (x, y, w, h), text))
    return out


def test_a_far_too_large_box_is_reported_and_read_narrowed(recessed, monkeypatch):
    ocr = create_ocr()

    def run():
        found = exact = 0
        for frame, box, text in recessed:
            for r in Recognizer(WideBox(box), ocr).read_frame(frame):
                if iou(r.detection.box, box) >= 0.5:
                    found += 1
                    exact += r.text == text
        return found, exact

    narrowed = run()
    monkeypatch.setattr(text_span, "WIDE_BELOW", 0.0)  # never narrow
    as_found = run()
    assert as_found == (0, 0)  # a box 1.7 x 1.3 times too large overlaps its plate by less than half
    # measured: 12 of 16 found and read exactly
    assert narrowed[0] >= 10 and narrowed[1] >= 10, narrowed
