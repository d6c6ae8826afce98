"""What a JPEG says before OpenCV decodes it: whether it is cut short, and the size its
header declares. Pillow's JPEG reader answers both.

OpenCV decodes a JPEG cut short into a picture whose lower part is grey (with a libjpeg
warning that names nothing), and a JPEG of a few hundred bytes whose header declares
30000x30000 pixels into 2.7 GB (15 s and over 5 GB on this host) before anything can
refuse it.
"""

from __future__ import annotations

import io
import struct

from PIL import JpegImagePlugin, UnidentifiedImageError

# More than any camera frame (the boards send VGA); a frame declaring more is refused before
# decoding, as a corrupt header or a decompression bomb.
MAX_PIXELS = 50_000_000
# The commands read photos too, the largest phones' included (12000x9000 is 108 MP).
MAX_PHOTO_PIXELS = 250_000_000

_HEADER_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, struct.error)


def _is_jpeg(data: bytes) -> bool:
    return data[:2] == b"\xff\xd8"


def _open(data: bytes) -> JpegImagePlugin.JpegImageFile:
    # The plugin's class, not Image.open: it reads the header without Image.open's own
    # decompression-bomb refusal, so that a huge declared size can be named (and limited here).
    return JpegImagePlugin.JpegImageFile(io.BytesIO(data))


def declared_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's header, or None (not a JPEG, no readable header)."""
    if not _is_jpeg(data):
        return None
    try:
        return _open(data).size
    except _HEADER_ERRORS:
        return None


def cut_short(data: bytes) -> bool:
    """True for a JPEG whose data ends before its picture does (a copy interrupted, a card
    pulled), its header included.

    Decoded at an eighth of its size (libjpeg's own scaling: every byte of the scan is still
    read, at little cost). Data after the end (a phone's trailer, a second picture) is no cut;
    data that is not a JPEG, or a whole JPEG that is damaged, is left to the decoder (False).
    Call after too_large: this decodes.
    """
    if not _is_jpeg(data):
        return False
    try:
        image = _open(data)
        image.draft(image.mode, (max(1, image.size[0] // 8), max(1, image.size[1] // 8)))
        image.load()
    except UnidentifiedImageError:
        return True
    except OSError as exc:
        # Pillow's words for data that ends early, in the header or in the scan
        return "truncated" in str(exc).lower()
    except (SyntaxError, ValueError, EOFError, IndexError, KeyError, struct.error):
        return True  # the header itself ends early
    return False


def too_large(data: bytes, max_pixels: int = MAX_PIXELS) -> str:
    """Why a JPEG must not be decoded for its size ("" when it may be)."""
    size = declared_size(data)
    if size is None or size[0] * size[1] <= max_pixels:
        return ""
    return (f"its header declares {size[0]}x{size[1]} pixels, more than the {max_pixels // 1_000_000} "
            "megapixels allowed: a corrupt header?")

