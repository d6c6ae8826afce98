"""What a JPEG's markers say before it is decoded: whether it is cut short, and its size.

OpenCV decodes a JPEG cut short into a picture whose lower part is grey (with a libjpeg
warning that names nothing), and a JPEG of a few hundred bytes whose header declares
30000x30000 pixels into 2.7 GB (15 s and over 5 GB on this host) before anything can
refuse it. Both are seen here, from the markers, without decoding.
"""

from __future__ import annotations

# More than any camera frame (the boards send VGA); a frame declaring more is refused before
# decoding, as a corrupt header or a decompression bomb.
MAX_PIXELS = 50_000_000
# The commands read photos too, the largest phones' included (12000x9000 is 108 MP).
MAX_PHOTO_PIXELS = 250_000_000

_RESTART = range(0xD0, 0xD8)
# start-of-frame markers (C4 DHT, C8 JPG and CC DAC share the range but are not)
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _segments(data: bytes):
    """(marker, offset of its payload, end of segment) in order from the start; (None, pos, n)
    where the data ends before the end-of-image marker; stops at the end marker or at data
    the walk does not understand. Entropy-coded data after a scan is skipped to the next marker."""
    pos, n = 2, len(data)
    while pos < n:
        if data[pos] != 0xFF:
            return
        if pos + 1 >= n:
            break
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0xD9:  # end of image
            yield marker, pos, pos + 2
            return
        if marker in _RESTART or marker == 0x01:  # markers without a length
            pos += 2
            continue
        if pos + 4 > n:
            break
        end = pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        yield marker, pos + 4, end
        pos = end
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= n:
                    yield None, n, n
                    return
                following = data[pos + 1]
                if following == 0x00 or following in _RESTART:
                    pos += 2
                elif following == 0xFF:
                    pos += 1
                else:
                    break
    yield None, n, n


def cut_short(data: bytes) -> bool:
    """True for a JPEG whose data ends before its end-of-image marker.

    Data after the end marker (a phone's trailer, a second picture) and an embedded
    thumbnail's own end marker are not mistaken for anything; data that is not a JPEG or
    that the walk does not understand is left to the decoder (False).
    """
    if data[:2] != b"\xff\xd8":
        return False
    for marker, _, _ in _segments(data):
        if marker is None:
            return True
        if marker == 0xD9:
            return False
    return False


def declared_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's start-of-frame header, or None (not a JPEG, no header)."""
    if data[:2] != b"\xff\xd8":
        return None
    for marker, start, end in _segments(data):
        if marker in _SOF and end <= len(data) and end - start >= 5:
            return int.from_bytes(data[start + 3:start + 5], "big"), int.from_bytes(data[start + 1:start + 3], "big")
        if marker is None or marker in (0xD9, 0xDA):
            return None
    return None


def too_large(data: bytes, max_pixels: int = MAX_PIXELS) -> str:
    """Why a JPEG must not be decoded for its size ("" when it may be)."""
    size = declared_size(data)
    if size is None or size[0] * size[1] <= max_pixels:
        return ""
    return (f"its header declares {size[0]}x{size[1]} pixels, more than the {max_pixels // 1_000_000} "
            "megapixels allowed: a corrupt header?")
