"""Plate numbers, state names and slogans for synthetic US plates.

The serial formats are the common shapes of US passenger, vanity and
motorcycle plates (letters L, digits 9); the slogans are generic phrases of
the kind plates carry, not any state's trademark artwork.
"""

from __future__ import annotations

import numpy as np

LETTERS = "ABCDEFGHIJKLMNPQRSTUVWXYZ"  # most states leave O out of serials
DIGITS = "0123456789"
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# (format, weight): groups separated by a space are drawn with a gap or mark.
SERIAL_FORMATS = (
    ("LLL 9999", 8), ("LLL 999", 6), ("999 LLL", 5), ("9LLL999", 8), ("LLL9999", 5),
    ("99L 999L", 2), ("9L 99999", 2), ("99 LL99", 2), ("L99 9LL", 2), ("999 9999", 2),
    ("LL 99999", 2), ("9LL L99", 2), ("99999", 1), ("L99 99L", 2), ("LLL L99", 1),
    ("999L999", 2), ("LL9 L999", 2), ("9999 LL", 1), ("LL 9999", 2), ("99 L9999", 1),
)
MOTORCYCLE_FORMATS = (("99999", 2), ("LL999", 2), ("9L999", 2), ("L9999", 2), ("999LL", 1), ("99L99", 1))

STATES = (
    "ALABAMA", "ALASKA", "ARIZONA", "ARKANSAS", "CALIFORNIA", "COLORADO", "CONNECTICUT",
    "DELAWARE", "FLORIDA", "GEORGIA", "HAWAII", "IDAHO", "ILLINOIS", "INDIANA", "IOWA",
    "KANSAS", "KENTUCKY", "LOUISIANA", "MAINE", "MARYLAND", "MASSACHUSETTS", "MICHIGAN",
    "MINNESOTA", "MISSISSIPPI", "MISSOURI", "MONTANA", "NEBRASKA", "NEVADA",
    "NEW HAMPSHIRE", "NEW JERSEY", "NEW MEXICO", "NEW YORK", "NORTH CAROLINA",
    "NORTH DAKOTA", "OHIO", "OKLAHOMA", "OREGON", "PENNSYLVANIA", "RHODE ISLAND",
    "SOUTH CAROLINA", "SOUTH DAKOTA", "TENNESSEE", "TEXAS", "UTAH", "VERMONT", "VIRGINIA",
    "WASHINGTON", "WEST VIRGINIA", "WISCONSIN", "WYOMING", "WASHINGTON, D.C.",
)
SLOGANS = (
    "Land of Lakes", "The Garden State", "Scenic Highways", "Sunshine and Mountains",
    "Great Faces Great Places", "Live Free", "Vacationland", "The Empire State",
    "America's Heartland", "First in Flight", "Wild and Wonderful", "The Silver State",
    "Green Mountain State", "Grand Canyon State", "Land of Enchantment", "The Natural State",
    "Ocean State", "Evergreen State", "Beautiful", "COUNTY", "Centennial 1912-2012",
    "Heart of Dixie", "Big Sky Country", "Spirit of America", "www.dmv.gov", "Explore More",
    "In God We Trust", "Support Education", "Veteran", "Keep It Wild", "Lake Country",
)
COUNTIES = ("Jackson", "Marion", "Hamilton", "Franklin", "Lincoln", "Washington", "Clark", "Lake")
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _pick(rng: np.random.Generator, weighted) -> str:
    weights = np.array([w for _, w in weighted], float)
    return weighted[rng.choice(len(weighted), p=weights / weights.sum())][0]


def serial(rng: np.random.Generator, kind: str = "standard") -> list[str]:
    """A random plate number as groups of characters, e.g. ['ABC', '1234']."""
    if kind == "vanity":
        n = int(rng.integers(2, 9))
        # vanity plates are mostly letters, with O allowed and a few digits
        pool = ALPHABET + "AEIOURSTLN" * 2
        text = "".join(pool[int(rng.integers(len(pool)))] for _ in range(n))
        if n >= 5 and rng.random() < 0.4:
            cut = int(rng.integers(2, n - 1))
            return [text[:cut], text[cut:]]
        return [text]
    fmt = _pick(rng, MOTORCYCLE_FORMATS if kind == "motorcycle" else SERIAL_FORMATS)
    out = []
    for group in fmt.split(" "):
        out.append(
            "".join(
                LETTERS[int(rng.integers(len(LETTERS)))] if c == "L" else DIGITS[int(rng.integers(10))]
                for c in group
            )
        )
    return out


def small_stack(rng: np.random.Generator) -> str:
    """Two or three small stacked characters (plate type codes such as 'TRK' or '19')."""
    n = 2 if rng.random() < 0.7 else 3
    return "".join(ALPHABET[int(rng.integers(len(ALPHABET)))] for _ in range(n))
