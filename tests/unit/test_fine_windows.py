"""The fine pass on windows around the base pass's faint regions, instead of the whole frame."""

import numpy as np
import pytest

from gateway.recognition import fine_windows
from gateway.recognition.detector_tflite import TfliteDetector, iou
from gateway.recognition.fine_windows import HINT, WINDOW_H, WINDOW_W, FineWindows
from models.synth.scenes import render_scene


@pytest.fixture(scope="module")
def windows():
    return TfliteDetector().windows


def _grid(h=96, w=160):
    return np.zeros((h, w, 13), np.float32)


def test_nothing_faint_in_the_base_pass_means_no_window(windows):
    assert windows.plan(_grid(), 0.5, 0.925, (720, 1280)) == []


def test_one_faint_region_gets_one_window_around_it(windows):
    grid = _grid()
    grid[40:43, 70:76, 0] = HINT + 0.05  # six cells wide: a plate 48 px wide to the base pass
    origins = windows.plan(grid, 0.5, 0.925, (720, 1280))
    assert len(origins) == 1
    ox, oy = origins[0]
    k = 4 * 0.925 / 0.5  # one base cell in fine-pass pixels
    assert ox <= 70 * k and 76 * k <= ox + WINDOW_W
    assert oy <= 40 * k and 43 * k <= oy + WINDOW_H


def test_regions_inside_a_window_already_add_none(windows):
    grid = _grid()
    grid[40:43, 70:76, 0] = 0.9
    grid[44, 79, 0] = 0.3  # a faint speck beside the plate
    assert len(windows.plan(grid, 0.5, 0.925, (720, 1280))) == 1


def test_windows_stay_inside_the_frame(windows):
    grid = _grid()
    grid[0:2, 0:3, 0] = 0.5
    grid[94:96, 155:160, 0] = 0.5
    full_w, full_h = 1280 * 0.925, 720 * 0.925
    origins = windows.plan(grid, 0.5, 0.925, (720, 1280))
    assert len(origins) == 2
    for ox, oy in origins:
        assert 0 <= ox <= full_w - WINDOW_W and 0 <= oy <= full_h - WINDOW_H


def test_a_frame_full_of_faint_regions_runs_the_whole_fine_pass(windows):
    grid = _grid()
    grid[::4, ::4, 0] = 0.5  # scattered specks everywhere: windows would cost more than the pass
    assert windows.plan(grid, 0.5, 0.925, (720, 1280)) is None


def test_a_plate_cut_by_a_window_edge_is_left_to_the_window_that_holds_it_whole(windows):
    frame, plates = render_scene(np.random.default_rng(3), 1280, 720, n_plates=1, min_plate_px=70,
                                 max_plate_px=80, night=False)
    x, y, w, h = plates[0].box
    s = 0.925
    whole = (int(max(0, (x + w / 2) * s - WINDOW_W / 2)), int(max(0, (y + h / 2) * s - WINDOW_H / 2)))
    assert len(windows.detect(frame, [whole], s, 16)) >= 1
    # a window whose left edge runs through the middle of the plate
    cut = (int((x + w / 2) * s), whole[1])
    cut_only = windows.detect(frame, [cut], s, 16)
    assert not any(iou(d.box, plates[0].box) > 0.1 for d in cut_only)
    both = windows.detect(frame, [whole, cut], s, 16)
    assert sum(iou(d.box, plates[0].box) > 0.1 for d in both) == 1
    assert max(iou(d.box, plates[0].box) for d in both) >= 0.5


@pytest.fixture(scope="module")
def far_plates():
    """1920 x 1080 and 1280 x 720 scenes whose plates are 50-70 pixels wide."""
    rng = np.random.default_rng(11)
    return [render_scene(rng, w, h, n_plates=2, min_plate_px=50, max_plate_px=70, night=False)
            for w, h in [(1920, 1080), (1280, 720)] * 8]


def _found(detector, scenes):
    found = 0
    for img, plates in scenes:
        dets = detector.detect(img)
        found += sum(any(iou(d.box, p.box) >= 0.5 for d in dets) for p in plates)
    return found


def test_windows_find_the_small_plates_the_whole_fine_pass_finds(far_plates, monkeypatch):
    planned = []
    original = FineWindows.plan

    def spy(self, *args):
        planned.append(original(self, *args))
        return planned[-1]

    monkeypatch.setattr(FineWindows, "plan", spy)
    windowed = _found(TfliteDetector(), far_plates)
    whole = _found(TfliteDetector(fine_windows=False), far_plates)
    assert len(planned) == len(far_plates) and sum(p is not None for p in planned) >= len(far_plates) // 2
    assert windowed >= whole - 1
    assert windowed >= 0.85 * sum(len(p) for _, p in far_plates)


def test_without_fine_pass_there_are_no_windows():
    assert TfliteDetector(fine_pass=False).windows is None
    assert TfliteDetector(fine_windows=False).windows is None
    assert fine_windows._starts(0, 100, WINDOW_W, 100, 1000) == [0]
