"""What a JPEG's markers say before decoding: cut short, and the size its header declares."""

import cv2
import numpy as np
import pytest

from gateway.recognition import jpeg
from gateway.recognition.stage import decode


def _jpeg(w=160, h=120, params=()):
    image = np.random.default_rng(3).integers(0, 255, (h, w, 3), dtype=np.uint8)
    return cv2.imencode(".jpg", image, list(params))[1].tobytes()


def _declaring(data: bytes, w: int, h: int) -> bytes:
    """The same bytes with the start-of-frame header claiming w x h (a corrupt header)."""
    out = bytearray(data)
    sof = out.find(b"\xff\xc0")
    out[sof + 5:sof + 7] = h.to_bytes(2, "big")
    out[sof + 7:sof + 9] = w.to_bytes(2, "big")
    return bytes(out)


@pytest.mark.parametrize("params", [(), (cv2.IMWRITE_JPEG_PROGRESSIVE, 1)])
def test_the_declared_size_is_the_decoded_one(params):
    assert jpeg.declared_size(_jpeg(160, 120, params)) == (160, 120)
    assert jpeg.declared_size(b"\x89PNG\r\n\x1a\n") is None and jpeg.declared_size(b"") is None


def test_a_header_declaring_a_huge_frame_is_refused_before_decoding():
    """A few hundred bytes declaring 8000x8000 (a corrupt header, or a decompression bomb)
    were decoded into 192 MB; at 30000x30000 over 5 GB and 15 s, in the car's one stage."""
    bomb = _declaring(_jpeg(16, 16), 8000, 8000)
    assert "8000x8000" in jpeg.too_large(bomb) and jpeg.too_large(_jpeg()) == ""
    image, why = decode(bomb)
    assert image is None and "8000x8000" in why


def test_the_stage_decodes_good_bytes_and_says_why_not_for_bad():
    image, why = decode(_jpeg())
    assert image.shape == (120, 160, 3) and why == ""
    assert decode(b"") == (None, "an empty frame")
    assert decode(b"not a jpeg") == (None, "not a readable JPEG")
