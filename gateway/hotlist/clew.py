"""California DOJ (CLEW) `.tbl` files: svs, sfr, slr.

    DATE07/02/2018 09:00          header: extract date and time
    ABC123  CA0120180627          plate 0-7, state 8-9, county 10-11, date of loss 12-19
    TOTAL RECORD 0000072          footer: the count of records

A missing or miscounted footer means a truncated download: rejected.
A state list runs to a million records, so the well-formed records are
found by one regex pass over the whole text; only if some line is not one
of them is the file walked line by line to name the bad lines.
"""

from __future__ import annotations

import re
from pathlib import Path

from gateway.hotlist.plates import normalize, valid_plate
from gateway.hotlist.records import Parsed, Problems, read_text, yyyymmdd

HEADER_RE = re.compile(r"^DATE(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2})\s*$")
FOOTER_RE = re.compile(r"^TOTAL RECORD\s+(\d+)\s*$")
RECORD = r"([A-Za-z0-9][A-Za-z0-9 \-]{7})([A-Z]{2})(\d{2})(\d{8})[ \t]*"
RECORD_RE = re.compile(f"^{RECORD}$")
RECORDS_RE = re.compile(f"^{RECORD}$", re.MULTILINE)


def parse(path: Path, list_code: str = "") -> tuple[list[Parsed], dict]:
    """All records of a .tbl file, or HotlistFormatError naming every bad line."""
    lines = read_text(path)
    problems = Problems(str(path))
    code = list_code or path.stem.lower()
    header = HEADER_RE.match(lines[0]) if lines else None
    if header is None:
        problems.add(1, "expected the header 'DATEmm/dd/yyyy hh:mm'; is this a CLEW .tbl file?")
        problems.raise_if_any()
    extracted = f"{header[3]}-{header[1]}-{header[2]}T{header[4]}:{header[5]}"

    footer_at = None
    for no in range(len(lines) - 1, 0, -1):
        if lines[no].strip():
            if FOOTER_RE.match(lines[no]):
                footer_at = no
            break
    if footer_at is None:
        problems.add(len(lines) + 1, "no 'TOTAL RECORD' footer: the file is truncated")
        problems.raise_if_any()
    footer_count = int(FOOTER_RE.match(lines[footer_at])[1])
    body = lines[1:footer_at]
    records = RECORDS_RE.findall("\n".join(body))
    if len(records) != len(body) - sum(1 for line in body if not line.strip()):
        _name_bad_lines(body, problems)
    entries = _entries(records, code, problems, body)
    if not problems.items and footer_count != len(entries):
        problems.add(footer_at + 1, f"the footer counts {footer_count} records but the file "
                                    f"holds {len(entries)}: truncated or damaged")
    problems.raise_if_any()
    return entries, {"extracted_at": extracted}


def _entries(records: list[tuple[str, ...]], code: str, problems: Problems,
             body: list[str]) -> list[Parsed]:
    dates: dict[str, str | None] = {}
    extras: dict[str, dict] = {}
    entries = []
    for field, state, county, loss_text in records:
        plate = field.rstrip()
        if " " in plate or "-" in plate or not plate.isupper() and not plate.isdigit():
            plate = normalize(plate)
            if not valid_plate(plate):
                problems.add(_line_of(body, field + state), f"plate field {field.strip()!r} is not 1-10 letters and digits")
                continue
        loss = dates.get(loss_text, "")
        if loss == "":
            loss = dates[loss_text] = yyyymmdd(loss_text)
        if loss is None:
            problems.add(_line_of(body, field + state + county + loss_text), f"date of loss {loss_text!r} is not a real YYYYMMDD date")
            continue
        extra = extras.get(county)
        if extra is None:
            extra = extras[county] = {"county": county}
        # A plain tuple in Parsed's field order: a million NamedTuple calls cost seconds.
        entries.append((plate, False, state, code, "", loss, None, extra))
    return entries


def _name_bad_lines(body: list[str], problems: Problems) -> None:
    for no, line in enumerate(body, start=2):
        if line.strip() and not RECORD_RE.match(line):
            problems.add(no, "not a record (plate 8 wide, 2-letter state, 2-digit county, "
                             "YYYYMMDD date)")


def _line_of(body: list[str], start: str) -> int:
    # Only on the error path: the line number of the first record starting so.
    for no, line in enumerate(body, start=2):
        if line.startswith(start):
            return no
    return 0
