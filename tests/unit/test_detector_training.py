"""The detector's short training run, end to end: train, export TFLite, load it without TensorFlow."""

import subprocess
import sys

import numpy as np
import pytest

from gateway.recognition.detector_tflite import TfliteDetector
from models.synth.scenes import render_scene


@pytest.mark.slow
@pytest.mark.parametrize("quantize", ["float16", "int8"])
def test_short_training_exports_a_working_tflite(tmp_path, quantize):
    out = tmp_path / "detector.tflite"
    proc = subprocess.run([sys.executable, "-m", "models.detector.train", "--short", "--quantize", quantize,
                           "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out.stat().st_size > 10_000
    det = TfliteDetector(out, threshold=0.0, max_plates=4)
    assert (det.in_w, det.in_h, det.stride) == (640, 384, 4)
    assert len(det.passes) == 2 and det.closer is not None  # exported for any input size
    frame, _ = render_scene(np.random.default_rng(3), 1280, 720, n_plates=2)
    grid, scale = det.raw(frame)
    assert grid.shape == (96, 160, 13) and scale == pytest.approx(0.5)
    assert 0.0 <= grid[..., 0].min() and grid[..., 0].max() <= 1.0  # the heatmap is a probability
    found = det.detect(frame)
    assert len(found) <= 4
    for d in found:
        x, y, w, h = d.box
        assert 0 <= x and 0 <= y and x + w <= 1280 and y + h <= 720
        assert d.corners.shape == (4, 2)


def test_training_crops_cover_the_fine_pass_scale_without_losing_large_plates():
    from models.detector import data

    frame = np.zeros((720, 1280, 3), np.uint8)
    boxes = np.array([[500.0, 400.0, 320.0, 100.0]], np.float32)  # a large plate, 160 px at letterbox scale
    img, kept, zoom = data.to_letterbox_scale(frame, boxes, data.STORE_ZOOM)
    assert img.shape[:2] == (720, 1280) and zoom == pytest.approx(2.0)  # full detail, never upsampled
    small, _, small_zoom = data.to_letterbox_scale(np.zeros((300, 400, 3), np.uint8), boxes[:0], data.STORE_ZOOM)
    assert small.shape[1] == 512 and small_zoom == pytest.approx(1.0)  # a small photo: the letterbox only
    sample = data.Sample(img, kept, None, "test", ["ABC1234"], zoom)
    rng = np.random.default_rng(0)
    for _ in range(20):
        x, y = data.crop_sample(rng, sample, 224, max_zoom=2.4)
        assert x.shape == (224, 224, 3)
        if y[..., 13].any():  # the plate is in the crop: never zoomed past 80 % of it
            width = np.exp(y[..., 1][y[..., 13] > 0].max()) * 4
            assert width <= 0.8 * 224 + 1
