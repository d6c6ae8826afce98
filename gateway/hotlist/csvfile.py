"""Plain CSV: `plate,state,list,description[,expires]` with one header line.

Plates may be partial (`7AB*`, `?AB1?3`). `expires` is an ISO date or
date-time (UTC). An entry whose expiry has already passed is left out (and
counted): a list published a moment before an entry expired is still good.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from gateway.hotlist.plates import is_pattern, normalize, valid_pattern, valid_plate
from gateway.hotlist.records import Parsed, Problems, read_text, state_code
from gateway.store.models import utcnow

COLUMNS = ["plate", "state", "list", "description"]


def parse_expiry(text: str) -> dt.datetime:
    """An ISO date (end of that day, UTC) or date-time; raises ValueError."""
    text = text.strip()
    if len(text) == 10:
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(23, 59, 59))
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def parse(path: Path, list_code: str = "") -> tuple[list[Parsed], dict]:
    lines = read_text(path)
    problems = Problems(str(path))
    if not lines:
        problems.add(1, "the file is empty")
        problems.raise_if_any()
    header = [h.strip().lower() for h in next(csv.reader([lines[0]]))]
    if header[:4] != COLUMNS or len(header) > 5 or (len(header) == 5 and header[4] != "expires"):
        problems.add(1, f"header must be {','.join(COLUMNS)}[,expires], not {lines[0]!r}")
        problems.raise_if_any()
    now = utcnow()
    entries: list[Parsed] = []
    expired = 0
    reader = csv.reader(io.StringIO("\n".join(lines[1:])))
    start = 2  # the file line the next record starts on (reader.line_num counts from line 2)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a field past csv.field_size_limit: an unbalanced quote
            problems.add(start, f"not readable as CSV ({exc}): is a quote (\") left unclosed?")
            break
        no, start = start, reader.line_num + 2
        if start - 1 != no:
            # A record over several lines: in a hotlist, a stray quote that swallowed the lines
            # after it as one description, entries lost without a word.
            problems.add(no, f"a quoted field runs on to line {start - 1}: is a quote (\") left "
                             "unclosed?")
            continue
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) not in (4, 5) or len(row) > len(header):
            problems.add(no, f"{len(row)} fields, {len(header)} expected")
            continue
        plate = normalize(row[0])
        pattern = is_pattern(plate)
        if not (valid_pattern(plate) if pattern else valid_plate(plate)):
            problems.add(no, f"plate {row[0]!r} is not 1-10 letters and digits (* and ? for "
                             "unknown characters)")
            continue
        state = state_code(row[1])
        if state is None:
            problems.add(no, f"state {row[1]!r} is not a two-letter code")
            continue
        expires = None
        if len(row) == 5 and row[4].strip():
            try:
                expires = parse_expiry(row[4])
            except ValueError:
                problems.add(no, f"expires {row[4]!r} is not an ISO date (YYYY-MM-DD)")
                continue
            if expires <= now:
                expired += 1
                continue
        entries.append(Parsed(plate, pattern, state, row[2].strip() or list_code,
                              row[3].strip(), None, expires, None))
    if not entries and not expired and not problems.items:
        problems.add(2, "the file holds no entries")
    problems.raise_if_any()
    return entries, {"expired_skipped": expired}
