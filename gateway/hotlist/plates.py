"""Plate text normalisation and the OCR confusion classes.

Hotlist plates and OCR candidates are compared in one form: upper case,
spaces and dashes removed. For tolerant matching each character is folded to
a representative of its confusion class (0/O/D/Q -> 0 and so on), so that two
plates OCR could mistake for each other fold to the same key.
"""

from __future__ import annotations

import re

CONFUSION_CLASSES = ("0ODQ", "1ILT7", "2Z", "5S", "8B", "6G", "4A")

FOLD_TABLE = str.maketrans({ch: cls[0] for cls in CONFUSION_CLASSES for ch in cls[1:]})
_FOLD = FOLD_TABLE
_STRIP = str.maketrans("", "", " -.\t")

PLATE_RE = re.compile(r"^[A-Z0-9]{1,10}$")
PATTERN_RE = re.compile(r"^[A-Z0-9*?]{1,10}$")

#: the folded alphabet: one representative per class plus every unconfused character
FOLDED_ALPHABET = "".join(sorted(set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".translate(_FOLD))))


def normalize(text: str) -> str:
    """Upper case, without spaces, dashes or dots."""
    return text.upper().translate(_STRIP)


def fold(text: str) -> str:
    """Map each character to its confusion class representative."""
    return text.translate(_FOLD)


def is_pattern(plate: str) -> bool:
    return "*" in plate or "?" in plate


def valid_plate(plate: str) -> bool:
    return bool(PLATE_RE.match(plate))


def valid_pattern(plate: str) -> bool:
    return bool(PATTERN_RE.match(plate)) and bool(plate.strip("*?"))


def pattern_regex(pattern: str, folded: bool = False) -> re.Pattern:
    """`7AB*` -> any suffix, `?AB1?3` -> one unknown character each."""
    body = fold(pattern) if folded else pattern
    parts = [".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in body]
    return re.compile("^" + "".join(parts) + "$")
