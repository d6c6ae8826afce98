"""Glyph masks for plate characters, from whatever fonts this machine has.

Plate fonts are condensed sans-serif faces, often embossed. No licence-clean
copy of a real plate font exists, so the generator combines several faces and
squeezes them to plate proportions:

- Fjalla One (SIL Open Font Licence), from the `font-fjallaone` package,
  installed with the project's `train` extra;
- DejaVu and Liberation faces where the system has them (Debian's
  `fonts-dejavu-core`, `fonts-liberation`);
- OpenCV's built-in Hershey stroke fonts, always present, so the generator
  works on a bare machine too.

The set of faces found is part of the seed's meaning: `available_faces()`
lists it, and the training log records it.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

logger = logging.getLogger(__name__)

_SYSTEM_DIRS = (Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))

# Faces usable for the registration characters (bold, plain sans or mono).
_CHAR_FACES = (
    "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSansMono-Bold.ttf",
    "LiberationSansNarrow-Bold.ttf",
    "LiberationSansNarrow-Regular.ttf",
    "LiberationSans-Bold.ttf",
    "LiberationMono-Bold.ttf",
)
# Faces for state names and slogans: anything goes, serif and italic included.
_DECOR_FACES = _CHAR_FACES + (
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerifCondensed-BoldItalic.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "LiberationSerif-Bold.ttf",
    "LiberationSerif-BoldItalic.ttf",
    "LiberationSans-BoldItalic.ttf",
    "LiberationSerif-Italic.ttf",
)
_HERSHEY = {
    "hershey-simplex": cv2.FONT_HERSHEY_SIMPLEX,
    "hershey-duplex": cv2.FONT_HERSHEY_DUPLEX,
    "hershey-plain": cv2.FONT_HERSHEY_PLAIN,
}
_GLYPH_H = 64  # glyphs are cached at this height and scaled when drawn


@dataclass(frozen=True)
class Face:
    name: str
    path: str | None  # None for a Hershey face


def _find(filename: str) -> Path | None:
    for root in _SYSTEM_DIRS:
        if root.is_dir():
            for hit in root.rglob(filename):
                return hit
    return None


@functools.cache
def available_faces(decorative: bool = False) -> tuple[Face, ...]:
    """The faces found here, in a fixed order (so a seed means the same here and in CI)."""
    faces: list[Face] = []
    try:
        import font_fjallaone

        for name, path in sorted(font_fjallaone.font_files.items()):
            faces.append(Face(f"fjalla-{name}", str(path)))
    except ImportError:
        logger.info("font-fjallaone not installed; synthetic plates use system and Hershey fonts")
    for filename in _DECOR_FACES if decorative else _CHAR_FACES:
        path = _find(filename)
        if path is not None:
            faces.append(Face(filename.removesuffix(".ttf"), str(path)))
    faces.extend(Face(name, None) for name in _HERSHEY)
    return tuple(faces)


@functools.cache
def _pil_font(path: str, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(path, size)


def _tight(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask > 20)
    if len(ys) == 0:
        return np.zeros((_GLYPH_H, _GLYPH_H // 4), np.uint8)
    return mask[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


@functools.cache
def glyph(face: Face, char: str, weight: int = 0) -> np.ndarray:
    """A tight uint8 mask (0-255) of one character, about _GLYPH_H pixels high.

    `weight` thickens Hershey strokes (0-2); TrueType faces ignore it.
    """
    if face.path is None:
        canvas = np.zeros((120, 120), np.uint8)
        font = _HERSHEY[face.name]
        scale = cv2.getFontScaleFromHeight(font, 70, 4 + 2 * weight)
        cv2.putText(canvas, char, (10, 95), font, scale, 255, 4 + 2 * weight, cv2.LINE_AA)
        mask = _tight(canvas)
    else:
        from PIL import Image, ImageDraw

        font = _pil_font(face.path, 96)
        image = Image.new("L", (160, 160), 0)
        ImageDraw.Draw(image).text((20, 10), char, fill=255, font=font)
        mask = _tight(np.asarray(image))
    h, w = mask.shape
    return cv2.resize(mask, (max(2, round(w * _GLYPH_H / h)), _GLYPH_H), interpolation=cv2.INTER_AREA)


def text_mask(face: Face, text: str, height: int) -> np.ndarray:
    """A uint8 mask of a line of decorative text (state name, slogan), `height` pixels high."""
    height = max(4, int(height))
    if face.path is None:
        font = _HERSHEY[face.name]
        scale = cv2.getFontScaleFromHeight(font, height, 1)
        (w, h), base = cv2.getTextSize(text, font, scale, 1)
        canvas = np.zeros((h + base + 4, w + 4), np.uint8)
        cv2.putText(canvas, text, (2, h + 2), font, scale, 255, max(1, height // 14), cv2.LINE_AA)
        return _tight(canvas)
    from PIL import Image, ImageDraw

    font = _pil_font(face.path, max(6, int(height * 1.3)))
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(image).text((2 - left, 2 - top), text, fill=255, font=font)
    mask = _tight(np.asarray(image))
    h, w = mask.shape
    return cv2.resize(mask, (max(2, round(w * height / h)), height), interpolation=cv2.INTER_AREA)
