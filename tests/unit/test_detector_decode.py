"""Decoding the detector's output grid, the backend registry, and straightening crops."""

import cv2
import numpy as np
import pytest

from gateway.recognition import detector
from gateway.recognition.boxes import iou
from gateway.recognition.mask_decode import decode
from gateway.recognition.rectify import crop_box, rectify


def grid_with(plates, gh=96, gw=160, stride=4):
    """An output grid as the model would give it for plates (cx, cy, w, h, score) in input pixels."""
    grid = np.zeros((gh, gw, 13), np.float32)
    for cx, cy, w, h, score in plates:
        x0, x1 = int((cx - w / 2) / stride), int(np.ceil((cx + w / 2) / stride))
        y0, y1 = int((cy - h / 2) / stride), int(np.ceil((cy + h / 2) / stride))
        for iy in range(y0, y1):
            for ix in range(x0, x1):
                edge = iy in (y0, y1 - 1) or ix in (x0, x1 - 1)
                grid[iy, ix, 0] = score * (0.8 if edge else 1.0)
                grid[iy, ix, 1:3] = np.log([w / stride, h / stride])
                grid[iy, ix, 3:5] = [(cx - (ix + 0.5) * stride) / w, (cy - (iy + 0.5) * stride) / h]
                grid[iy, ix, 5:13] = [-0.5, -0.5, 0.5, -0.5, 0.5, 0.5, -0.5, 0.5]
    return grid


def test_decode_maps_regions_back_to_frame_pixels():
    # A 1280x720 frame letterboxed at scale 0.5.
    grid = grid_with([(100, 60, 40, 20, 0.9), (400, 200, 80, 40, 0.6), (500, 300, 30, 15, 0.1)])
    dets = decode(grid, 0.5, 4, 0.3, 16, (720, 1280))
    assert len(dets) == 2
    assert dets[0].score == pytest.approx(0.9)
    x, y, w, h = dets[0].box
    assert (x, y, w, h) == pytest.approx((160, 100, 80, 40), abs=1)
    assert dets[0].corners[0] == pytest.approx((160, 100), abs=1)
    assert dets[0].corners[2] == pytest.approx((240, 140), abs=1)
    assert dets[1].box[2] == pytest.approx(160, abs=1)


def test_decode_merges_overlapping_regions_and_limits_count():
    grid = grid_with([(100, 60, 60, 30, 0.9)])
    grid[13:17, 24, 0] = 0.0  # a gap splits the plate's region in two
    assert len(decode(grid, 1.0, 4, 0.3, 16, (384, 640))) == 1
    many = grid_with([(20 + 48 * i, 200, 20, 10, 0.9) for i in range(12)])
    assert len(decode(many, 1.0, 4, 0.3, 5, (384, 640))) == 5


def test_iou():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(1 / 3)
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0.0


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(detector.DetectorError, match="recognition.detector"):
        detector.create("nonesuch")
    assert "tflite" in detector.DetectorBackend.registry


def test_missing_model_file_is_a_clear_error(tmp_path):
    from gateway.recognition.litert import ModelLoadError

    with pytest.raises(ModelLoadError, match="missing"):
        detector.create("tflite", model=tmp_path / "none.tflite")


def test_rectify_undoes_a_tilt():
    plate = np.full((60, 120, 3), 255, np.uint8)
    cv2.rectangle(plate, (10, 20), (110, 40), (0, 0, 0), -1)
    frame = np.zeros((300, 400, 3), np.uint8)
    src = np.float32([[0, 0], [120, 0], [120, 60], [0, 60]])
    corners = np.float32([[150, 100], [270, 120], [265, 180], [145, 160]])
    frame = cv2.warpPerspective(plate, cv2.getPerspectiveTransform(src, corners), (400, 300), dst=frame,
                                borderMode=cv2.BORDER_TRANSPARENT)
    x0, y0 = corners.min(0)
    x1, y1 = corners.max(0)
    box = (int(x0), int(y0), int(x1 - x0), int(y1 - y0))
    flat = rectify(frame, box, corners, margin=0.0)
    assert flat.shape[1] == pytest.approx(120, abs=3) and flat.shape[0] == pytest.approx(60, abs=3)
    # The dark bar is straight again: rows 25-35 dark, rows 5 and 50 light.
    grey = flat.mean(axis=2)
    assert grey[28:33, 20:100].mean() < 60 and grey[5, 20:100].mean() > 190 and grey[52, 20:100].mean() > 190
    # Without usable corners: the box with a margin.
    assert rectify(frame, box, None).shape[:2] == crop_box(frame, box).shape[:2]
    bad = np.float32([[0, 0], [1, 1], [0, 1], [1, 0]])  # not convex
    assert rectify(frame, box, bad).shape[:2] == crop_box(frame, box).shape[:2]
