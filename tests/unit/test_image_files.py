"""Reading the images named on a command line: each bad file with its reason."""

import cv2
import numpy as np
import pytest

from gateway.recognition.jpeg import cut_short as jpeg_cut_short
from tools.cli.images import read_image


@pytest.fixture
def jpegs():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    return {name: cv2.imencode(".jpg", image, flags)[1].tobytes()
            for name, flags in (("baseline", []), ("progressive", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]))}


@pytest.mark.parametrize("kind", ["baseline", "progressive"])
def test_a_jpeg_is_cut_short_anywhere_before_its_end_marker(jpegs, kind):
    data = jpegs[kind]
    assert not jpeg_cut_short(data)
    for end in (3, 200, len(data) // 2, len(data) - 2):
        assert jpeg_cut_short(data[:end]), end


def test_data_after_the_end_marker_is_not_a_cut(jpegs):
    # a phone's trailer or a second picture after the first one's end
    assert not jpeg_cut_short(jpegs["baseline"] + b"\0" * 64 + jpegs["progressive"][:500])
    assert not jpeg_cut_short(b"\x89PNG\r\n\x1a\n")  # not a JPEG: left to the decoder


def test_each_reason(tmp_path, jpegs):
    (tmp_path / "ok.jpg").write_bytes(jpegs["baseline"])
    (tmp_path / "cut.jpg").write_bytes(jpegs["baseline"][:900])
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("not an image")
    (tmp_path / "dir.jpg").mkdir()
    bomb = bytearray(jpegs["baseline"])  # a header declaring 30000x30000: over 5 GB to decode
    sof = bomb.find(b"\xff\xc0")
    bomb[sof + 5:sof + 9] = (30000).to_bytes(2, "big") * 2
    (tmp_path / "bomb.jpg").write_bytes(bytes(bomb))
    image, why = read_image(tmp_path / "ok.jpg")
    assert image.shape == (120, 160, 3) and why == ""
    for name, reason in (("cut.jpg", "cut short"), ("empty.jpg", "empty"), ("text.jpg", "not an image"),
                         ("dir.jpg", "folder"), ("gone.jpg", "no such file"),
                         ("bomb.jpg", "declares 30000x30000 pixels")):
        image, why = read_image(tmp_path / name)
        assert image is None and reason in why, name
