"""Reading the image files named on a command line, with the reason when one cannot be read.

OpenCV says only "no image" (None) for a missing file, a folder, an empty file or a text
file, and decodes a JPEG cut short (a copy interrupted, a card pulled) into a picture whose
lower part is grey, with a libjpeg warning that names no file. A technician needs to know
which file is bad and why; a measurement must not score a half-grey picture as a scene.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_RESTART = range(0xD0, 0xD8)


def jpeg_cut_short(data: bytes) -> bool:
    """True for a JPEG whose data ends before its end-of-image marker.

    The markers are walked from the start (segments by their length, entropy-coded data to
    the next marker), so data after the end marker (a phone's trailer, a second picture) and
    an embedded thumbnail's own end marker are not mistaken for anything. Data this walk does
    not understand is left to the decoder (False).
    """
    if data[:2] != b"\xff\xd8":
        return False
    pos, n = 2, len(data)
    while pos < n:
        if data[pos] != 0xFF:
            return False
        if pos + 1 >= n:
            return True
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0xD9:  # end of image
            return False
        if marker in _RESTART or marker == 0x01:  # markers without a length
            pos += 2
            continue
        if pos + 4 > n:
            return True
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= n:
                    return True
                following = data[pos + 1]
                if following == 0x00 or following in _RESTART:
                    pos += 2
                elif following == 0xFF:
                    pos += 1
                else:
                    break
    return True


def read_image(path: str | Path) -> tuple[np.ndarray | None, str]:
    """(BGR image, "") or (None, why it cannot be read, in words a technician can act on)."""
    import cv2

    path = Path(path)
    if path.is_dir():
        return None, "it is a folder, not an image file"
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None, "no such file: check the path"
    except OSError as exc:
        return None, exc.strerror or str(exc)
    if size == 0:
        return None, "the file is empty (0 bytes): a failed copy?"
    try:
        with path.open("rb") as fh:
            data = fh.read()
    except OSError as exc:
        return None, exc.strerror or str(exc)
    if jpeg_cut_short(data):
        return None, f"the JPEG is cut short ({size} bytes, no end-of-image marker): copy the file again"
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        return None, "not an image OpenCV can decode (JPEG, PNG or BMP), or too large"
    return image, ""
