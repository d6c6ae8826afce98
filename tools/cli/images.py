"""Reading the image files named on a command line, with the reason when one cannot be read.

OpenCV says only "no image" (None) for a missing file, a folder, an empty file or a text
file, and decodes a JPEG cut short (a copy interrupted, a card pulled) into a picture whose
lower part is grey, with a libjpeg warning that names no file (gateway.recognition.jpeg
sees it). A technician needs to know which file is bad and why; a measurement must not
score a half-grey picture as a scene.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gateway.recognition import jpeg


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
    too_large = jpeg.too_large(data, jpeg.MAX_PHOTO_PIXELS)
    if too_large:
        return None, too_large
    if jpeg.cut_short(data):
        return None, f"the JPEG is cut short ({size} bytes, its picture incomplete): copy the file again"
    # decoded from the bytes already read, not read from disk again (imdecode applies the EXIF
    # orientation as imread does)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None, "not an image OpenCV can decode (JPEG, PNG or BMP), or too large"
    return image, ""
