"""What every hotlist parser yields: one validated entry per record, or errors by line."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from gateway.errors import AlprError

MAX_ERRORS_SHOWN = 10


class HotlistFormatError(AlprError):
    """A hotlist file failed validation; nothing was imported and the previous list stays."""


class Parsed(NamedTuple):
    plate: str
    is_pattern: bool
    state: str
    list_code: str
    description: str
    incident_date: str | None  # YYYY-MM-DD
    expires_at: dt.datetime | None
    extra: dict | None


class Problems:
    """Collects line-numbered problems; raises them all at once."""

    def __init__(self, source: str):
        self.source = source
        self.items: list[str] = []

    def add(self, line_no: int, message: str) -> None:
        self.items.append(f"line {line_no}: {message}")

    def raise_if_any(self) -> None:
        if not self.items:
            return
        shown = "; ".join(self.items[:MAX_ERRORS_SHOWN])
        more = len(self.items) - MAX_ERRORS_SHOWN
        tail = f" (and {more} more problems)" if more > 0 else ""
        raise HotlistFormatError(f"{self.source} rejected, the previous list stays active: "
                                 f"{shown}{tail}")


def yyyymmdd(text: str) -> str | None:
    """'20190509' -> '2019-05-09'; None when not a real date."""
    if len(text) != 8 or not text.isdigit():
        return None
    year, month, day = int(text[:4]), int(text[4:6]), int(text[6:])
    if not (1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    if day > 28:
        try:
            dt.date(year, month, day)
        except ValueError:
            return None
    return f"{text[:4]}-{text[4:6]}-{text[6:]}"


def state_code(text: str) -> str | None:
    """A US state or territory as stored: two letters, upper case; '' for none given; None when
    it is not one ('california'). One rule for every way an entry comes in, so that a state the
    matcher and the CSV import would refuse cannot be typed in by hand."""
    code = (text or "").strip().upper()
    if not code:
        return ""
    return code if len(code) == 2 and code.isascii() and code.isalpha() else None


def read_text(path) -> list[str]:
    """The file's lines; Windows-1252 (else latin-1) as the fallback because old exports are not
    UTF-8. Lines end only at \\n, \\r\\n or \\r: str.splitlines also broke them at NEL (0x85, the
    "…" Excel writes in Windows-1252), form feeds and other separators inside a record.

    utf-8-sig drops the byte-order mark Excel writes at the start of a "CSV UTF-8" file, which
    otherwise stuck to the first header name and got a correct file refused. A file with a UTF-16
    byte-order mark (Excel's "Unicode Text", Windows PowerShell's `>` and Out-File) is decoded as
    such; before, the latin-1 fallback turned it into NUL-strewn text refused as a bad header. A
    file still holding NUL characters (UTF-16 without the mark, UTF-32, a compressed or binary
    file) is refused as what it is, not line by line as garbage."""
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            text = "\x00"  # a torn UTF-16 file: refused below
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:  # one of its five undefined bytes
                text = data.decode("latin-1")
    if "\x00" in text:
        problems = Problems(str(path))
        problems.add(text[:text.index("\x00")].count("\n") + 1,
                     "the file holds NUL characters: it is not plain text (UTF-16 without a "
                     "byte-order mark, UTF-32, or a compressed or binary file); save it as UTF-8 "
                     "text (CSV UTF-8 in Excel) and import that")
        problems.raise_if_any()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()  # the last line's own end, as splitlines has it
    return lines
