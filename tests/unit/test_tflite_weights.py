"""Training continues from a shipped .tflite: its weights load back into the Keras networks."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from gateway.recognition.detector_tflite import TfliteDetector  # noqa: E402
from gateway.recognition.ocr_input import preprocess  # noqa: E402
from gateway.recognition.ocr_tflite import DEFAULT_MODEL as OCR_MODEL  # noqa: E402
from gateway.recognition.ocr_tflite import TfliteOcr  # noqa: E402
from models import tflite_weights  # noqa: E402
from models.detector.model import build as build_detector  # noqa: E402
from models.ocr.model import build as build_ocr  # noqa: E402
from models.synth.camera import ocr_sample  # noqa: E402
from models.synth.scenes import render_scene  # noqa: E402


def test_detector_weights_round_trip_exactly():
    det = TfliteDetector()
    net = build_detector()
    tflite_weights.load_into(net, det.model)
    frame, _ = render_scene(np.random.default_rng(5), 1280, 720, n_plates=2)
    # both passes: the letterboxed frame and the fine pass's larger view
    for k, one in enumerate(det.passes):
        grid, _ = det.raw(frame, k)
        canvas = np.zeros((1, one.in_h, one.in_w, 3), np.float32)
        small = one.scaled(frame)
        canvas[0, : small.shape[0], : small.shape[1]] = small
        keras_grid = net.predict(canvas, verbose=0)[0]
        # float16 weights in the file: the same network up to rounding
        assert np.abs(keras_grid - grid).max() < 1e-3


@pytest.fixture(scope="module")
def crops():
    rng = np.random.default_rng(11)
    return np.stack([preprocess(ocr_sample(rng)[0]) for _ in range(96)])


# The shipped OCR joins two networks of width 2 (models.ocr.ensemble; the model card, eleventh session).
MEMBERS = (("plate_ocr_0", 2.0), ("plate_ocr_1", 2.0))


def _member(scope, width, calibration=None):
    net = build_ocr(width, name=f"test_{scope}")
    tflite_weights.load_into(net, OCR_MODEL, calibration=calibration, scope=scope)
    return net


def test_ocr_members_reproduce_the_shipped_reader(crops):
    reader = TfliteOcr()
    shipped = np.stack([reader.net.run(x) for x in crops[:32]])
    probs = []
    for scope, width in MEMBERS:
        logits = _member(scope, width).predict(crops[:32], verbose=0)
        e = np.exp(logits - logits.max(-1, keepdims=True))
        probs.append(e / e.sum(-1, keepdims=True))
    joined = np.mean(probs, axis=0)
    # int8 weights with float activations in the file, float here: the same best class nearly everywhere
    assert (joined.argmax(-1) == shipped.argmax(-1)).mean() > 0.98
    assert np.abs(joined - shipped).mean() < 0.01


def test_unfolded_batch_norm_behaves_the_same_when_training(crops):
    """Batch statistics must reproduce the folded layer, or the first training steps wreck the model."""
    net = _member(*MEMBERS[0], calibration=crops)
    bns = [lyr for lyr in net.layers if isinstance(lyr, keras.layers.BatchNormalization)]
    assert bns
    probe = keras.Model(net.inputs, [bn.input for bn in bns])
    for bn, z in zip(bns, probe.predict(crops, verbose=0), strict=True):
        training = bn(z, training=True).numpy()
        inference = bn(z, training=False).numpy()
        assert np.allclose(training, inference, atol=1e-2 * max(1.0, float(np.abs(inference).max())))


def test_an_unknown_member_is_refused():
    with pytest.raises(tflite_weights.TfliteWeightsError, match="no weights of a network named"):
        _member("plate_ocr_7", 1.0)


def test_a_file_of_another_design_is_refused():
    with pytest.raises(tflite_weights.TfliteWeightsError, match="another architecture"):
        tflite_weights.load_into(build_ocr(), TfliteDetector().model)
