"""The NCIC-style fixed-width extract: every list type in one file.

Offsets (0-based, end exclusive): type 0-1, incident date 19-27, plate 27-37,
state 37-39, tag year 39-43, vehicle year 45-49, make 49-53, model 53-56,
colour 58-. The file has no footer, so a truncated last line is caught by
its length and fields.
"""

from __future__ import annotations

from pathlib import Path

from gateway.hotlist.plates import normalize, valid_plate
from gateway.hotlist.records import Parsed, Problems, read_text, state_code, yyyymmdd

LIST_TYPES = {
    "A": "AMBER alert", "F": "felony vehicle", "W": "wanted person", "V": "stolen vehicle",
    "P": "stolen plate", "M": "missing person", "C": "supervised release",
    "H": "protection order", "K": "protective interest", "L": "violent person",
    "R": "stolen Canadian vehicle", "T": "gang / terrorist member", "X": "sex offender",
}
MIN_LENGTH = 39  # through the plate state


def parse(path: Path, list_code: str = "") -> tuple[list[Parsed], dict]:
    lines = read_text(path)
    problems = Problems(str(path))
    entries: list[Parsed] = []
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if len(line) < MIN_LENGTH:
            problems.add(no, f"record is {len(line)} characters, at least {MIN_LENGTH} expected "
                             "(truncated?)")
            continue
        code = line[0]
        if code not in LIST_TYPES:
            problems.add(no, f"unknown list type {code!r} (expected one of {''.join(LIST_TYPES)})")
            continue
        incident = yyyymmdd(line[19:27])
        if incident is None:
            problems.add(no, f"incident date {line[19:27]!r} is not a real YYYYMMDD date")
            continue
        plate = normalize(line[27:37])
        if not valid_plate(plate):
            problems.add(no, f"plate field {line[27:37].strip()!r} is not 1-10 letters and digits")
            continue
        state = state_code(line[37:39])
        if not state:
            problems.add(no, f"plate state {line[37:39]!r} is not two letters")
            continue
        extra = {k: v for k, v in (("tag_year", line[39:43].strip()),
                                   ("vehicle_year", line[45:49].strip()),
                                   ("make", line[49:53].strip()), ("model", line[53:56].strip()),
                                   ("colour", line[58:].strip())) if v}
        entries.append(Parsed(plate, False, state, code, LIST_TYPES[code], incident, None,
                              extra or None))
    if not entries and not problems.items:
        problems.add(1, "the file holds no records")
    problems.raise_if_any()
    return entries, {}
