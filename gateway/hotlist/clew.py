"""California DOJ (CLEW) `.tbl` files: svs, sfr, slr.

    DATE07/02/2018 09:00          header: extract date and time
    ABC123  CA0120180627          plate 0-7, state 8-9, county 10-11, date of loss 12-19
    TOTAL RECORD 0000072          footer: the count of records

A missing or miscounted footer means a truncated download: rejected; so is
a file of no records, which would otherwise empty the list it replaces.
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
# Any record, plate field as delivered (spaces or dashes inside, lower case).
RECORD_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9 \-]{7})([A-Z]{2})(\d{2})(\d{8})[ \t\r]*$")
BLANK_RE = re.compile(r"^[ \t\r]*$", re.MULTILINE)
# The usual record, whose plate needs no normalising: one C-speed pass finds them all.
CLEAN_RECORDS_RE = re.compile(
    r"^(?=[A-Z0-9 ]{8}[A-Z]{2}\d{10}[ \t\r]*$)([A-Z0-9]{1,8}) *([A-Z]{2})(\d{2})(\d{8})[ \t\r]*$",
    re.MULTILINE)


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
    entries = _fast(body, code)
    if entries is None:
        entries = _line_by_line(body, code, problems)
    if not entries and not problems.items:
        # As the CSV and NCIC parsers do: a state list is never empty, and an empty file that
        # only looks complete (a failed export) would otherwise wipe out the list it replaces.
        problems.add(2, "the file holds no records")
    elif not problems.items and footer_count != len(entries):
        problems.add(footer_at + 1, f"the footer counts {footer_count} records but the file "
                                    f"holds {len(entries)}: truncated or damaged")
    problems.raise_if_any()
    return entries, {"extracted_at": extracted}


def _fast(body: list[str], code: str) -> list[Parsed] | None:
    """Every record at C speed, or None if any line needs a closer look."""
    text = "\n".join(body)
    records = CLEAN_RECORDS_RE.findall(text)
    if len(records) != len(body) - len(BLANK_RE.findall(text)):
        return None
    dates = {text: yyyymmdd(text) for text in {r[3] for r in records}}
    if None in dates.values():
        return None
    extras = {county: {"county": county} for county in {r[2] for r in records}}
    # Plain tuples in Parsed's field order: a million NamedTuple calls cost seconds.
    return [(plate, False, state, code, "", dates[loss], None, extras[county])
            for plate, state, county, loss in records]


def _line_by_line(body: list[str], code: str, problems: Problems) -> list[Parsed]:
    entries = []
    for no, line in enumerate(body, start=2):
        if not line.strip():
            continue
        rec = RECORD_RE.match(line)
        if rec is None:
            problems.add(no, "not a record (plate 8 wide, 2-letter state, 2-digit county, "
                             "YYYYMMDD date)")
            continue
        plate = normalize(rec[1])
        if not valid_plate(plate):
            problems.add(no, f"plate field {rec[1].strip()!r} is not 1-10 letters and digits")
            continue
        loss = yyyymmdd(rec[4])
        if loss is None:
            problems.add(no, f"date of loss {rec[4]!r} is not a real YYYYMMDD date")
            continue
        entries.append(Parsed(plate, False, rec[2], code, "", loss, None, {"county": rec[3]}))
    return entries
