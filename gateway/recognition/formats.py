"""US plate formats and the OCR's known confusions, to rank candidate readings.

Most plates follow their state's serial format (California `1ABC234`, New
York `ABC1234`...), so a reading that breaks every format, but would fit one
if an easily confused character were swapped (`O` for `0`, `B` for `8`...), is
probably that swap. Vanity and special plates follow no format, so a reading
outside the formats is kept, only ranked lower; the OCR's own per-character
confidence decides how cheap a swap is.

Format letters: `A` a letter, `9` a digit.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence

# Current and recent standard passenger formats; states share many of them.
STATE_FORMATS: dict[str, tuple[str, ...]] = {
    "AZ": ("AAA9999",),
    "CA": ("9AAA999", "9A99999", "99999A9"),
    "CO": ("AAA999", "999AAA", "AAA9999"),
    "FL": ("AAAA99", "999AAA", "AAA9A9", "AAA999"),
    "GA": ("AAA9999", "AAA999"),
    "IL": ("AA99999", "A999999", "AA9999"),
    "MA": ("9AAA99", "999AA9"),
    "MI": ("AAA9999", "9AAA99"),
    "NC": ("AAA9999",),
    "NJ": ("A99AAA", "AAA99A"),
    "NV": ("999A999", "99A999"),
    "NY": ("AAA9999",),
    "OH": ("AAA9999",),
    "OR": ("999AAA", "AAA999"),
    "PA": ("AAA9999",),
    "TX": ("AAA9999", "AA9A999"),
    "VA": ("AAA9999",),
    "WA": ("AAA9999", "999AAA9"),
}
GENERAL = re.compile(r"^[A-Z0-9]{2,10}$")  # as long as the OCR reads (vanity plates with 9-10 exist)
ALL_FORMATS: frozenset[str] = frozenset(itertools.chain.from_iterable(STATE_FORMATS.values()))

# Characters the OCR confuses with a character of the other kind.
LETTER_FOR_DIGIT = {"0": "OD", "1": "IL", "2": "Z", "4": "A", "5": "S", "6": "G", "7": "T", "8": "B"}
DIGIT_FOR_LETTER = {
    "O": "0", "D": "0", "Q": "0", "U": "0", "I": "1", "L": "1", "T": "7", "Z": "2",
    "A": "4", "S": "5", "G": "6", "B": "8",
}
OUTSIDE_FORMAT = 0.5  # score factor of a reading that fits no standard format (see rank)
MAX_SWAPS = 2


def shape(text: str) -> str:
    return "".join("9" if c.isdigit() else "A" for c in text)


def fits(text: str) -> bool:
    return shape(text) in ALL_FORMATS


def states_for(text: str) -> list[str]:
    """States whose standard formats this text fits (often several)."""
    s = shape(text)
    return [state for state, fmts in STATE_FORMATS.items() if s in fmts]


def normalize(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def _swapped(text: str, fmt: str) -> list[tuple[str, list[int]]]:
    """Ways to make `text` fit `fmt` by confusion swaps: (new text, swapped positions)."""
    options: list[list[str]] = []
    for c, want in zip(text, fmt, strict=True):
        is_digit = c.isdigit()
        if (want == "9") == is_digit:
            options.append([c])
        elif want == "9":
            options.append([DIGIT_FOR_LETTER[c]] if c in DIGIT_FOR_LETTER else [])
        else:
            options.append(list(LETTER_FOR_DIGIT.get(c, "")))
        if not options[-1]:
            return []
    out = []
    for combo in itertools.product(*options):
        new = "".join(combo)
        swaps = [i for i, (a, b) in enumerate(zip(text, new, strict=True)) if a != b]
        if len(swaps) <= MAX_SWAPS:
            out.append((new, swaps))
    return out


def rank(candidates: Iterable[tuple[str, float]], char_confidence: Sequence[float] = (),
         limit: int = 5) -> list[tuple[str, float]]:
    """Re-score OCR candidates by the formats; returns (text, score) best first.

    `char_confidence` belongs to the first candidate (the OCR's best path); a
    swap at a position the OCR was unsure of costs little, a swap at a
    confident position costs a lot.
    """
    scores: dict[str, float] = {}
    for n, (raw, conf) in enumerate(candidates):
        text = normalize(raw)
        if not GENERAL.match(text):
            continue
        if fits(text):
            scores[text] = max(scores.get(text, 0.0), conf)
            continue
        scores[text] = max(scores.get(text, 0.0), conf * OUTSIDE_FORMAT)
        per_char = list(char_confidence) if n == 0 and len(char_confidence) == len(text) else []
        for fmt in ALL_FORMATS:
            if len(fmt) != len(text):
                continue
            for new, swaps in _swapped(text, fmt):
                cost = 1.0
                for i in swaps:
                    # The odds that the OCR was wrong at i: a swap where it was unsure
                    # is nearly free, one where it was sure is nearly impossible.
                    cost *= min(1.0, (1.0 - per_char[i]) / max(per_char[i], 1e-3)) if per_char else 0.5
                score = conf * cost
                if score > scores.get(new, 0.0):
                    scores[new] = score
    return sorted(scores.items(), key=lambda kv: -kv[1])[:limit]


class BestOfRanked:
    """`text` and `confidence` of the best of a ranked `candidates` list.

    Mixed into the per-frame read and the fused read, which both keep their
    candidates as ranked (text, score) pairs, best first; empty if nothing read.
    """

    candidates: list[tuple[str, float]]

    @property
    def text(self) -> str:
        return self.candidates[0][0] if self.candidates else ""

    @property
    def confidence(self) -> float:
        return self.candidates[0][1] if self.candidates else 0.0
