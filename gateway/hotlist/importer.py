"""Replacing a hotlist atomically from a file.

The whole file is parsed and validated first; only a clean file touches the
database, and then in one transaction (old entries out, new entries in, the
list's record updated, the access record written). Any error leaves the
previous list active. Afterwards the matcher index is refreshed (in this
process at once, in others through the generation token).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from peewee import DatabaseError

from gateway.errors import AlprError
from gateway.hotlist import clew, csvfile, match, ncic
from gateway.hotlist.records import HotlistFormatError, Parsed
from gateway.store import audit
from gateway.store.db import problem
from gateway.store.models import HotlistEntry, HotlistList, database, utcnow

logger = logging.getLogger(__name__)

PARSERS = {"clew": clew.parse, "ncic": ncic.parse, "csv": csvfile.parse}
FROM_CLETS = {"clew": True, "ncic": True, "csv": False}
# A new list's alert order when the import names none: the state and federal files hold stolen
# vehicles and wanted persons, which must not reach the officer as a mere notice (5) behind an
# agency's own list; an officer's own wanted entry stays first (1).
NEW_LIST_PRIORITY = {"clew": 2, "ncic": 2, "csv": 5}
INSERT_CHUNK = 20_000

_COLUMNS = ("hotlist_id", "plate", "is_pattern", "state", "list_code", "description", "reason",
            "case_number", "from_clets", "incident_date", "expires_at", "entered_by",
            "entered_at", "extra")


def _insert_sql(list_id: int, from_clets: bool) -> str:
    # Values the same for every row are written into the statement once instead
    # of being bound a million times. Who imported the list and when is kept
    # once, on the list; entered_by/entered_at are for officers' own entries.
    values = [str(int(list_id)), "?", "?", "?", "?", "?", "''", "''", str(int(from_clets)), "?",
              "?", "''", "NULL", "?"]
    return f"INSERT INTO hotlist_entry ({', '.join(_COLUMNS)}) VALUES ({', '.join(values)})"


class HotlistImportError(AlprError):
    """The import was refused; the previous list stays active."""


@dataclass
class ImportResult:
    list: str
    format: str
    entries: int
    replaced: int
    sha256: str
    seconds: float
    expired_skipped: int = 0  # CSV entries whose expiry had already passed

    def as_dict(self) -> dict:
        return asdict(self)


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def import_file(path: Path | str, fmt: str, list_name: str, *, username: str,
                priority: int | None = None, covert: bool | None = None,
                description: str | None = None, origin: dict | None = None) -> ImportResult:
    """Replace list `list_name` with the entries of `path`; see the module docstring.

    `origin`: where the list came from, kept on it in the import's own transaction instead of the
    file's format and hash ({"source", "version", "sha256"}: the regional sync's)."""
    started = time.monotonic()
    path = Path(path)
    if fmt not in PARSERS:
        raise HotlistImportError(f"unknown hotlist format {fmt!r}; use one of {', '.join(PARSERS)}")
    if not list_name.strip():
        raise HotlistImportError("the list needs a name (--list NAME)")
    if not path.is_file():
        raise HotlistImportError(f"{path}: no such file")
    _check_replaceable(list_name, (origin or {}).get("source", fmt))
    try:
        entries, meta = PARSERS[fmt](path, list_name)
    except HotlistFormatError as exc:
        audit.record("hotlist.import", username=username, query=f"{list_name} from {path.name}",
                     outcome="rejected", detail=str(exc)[:2000])
        raise
    sha = _sha256(path)
    try:
        replaced = _replace(path, fmt, list_name, entries, sha, username=username, priority=priority,
                            covert=covert, description=description, origin=origin)
    except (DatabaseError, sqlite3.DatabaseError) as exc:
        # A full disk fails the insert, SQLite rolls the transaction back itself, and peewee's own
        # rollback then fails too ("cannot rollback"), hiding the cause: db.problem finds it in
        # the chain. Nothing was committed, so the previous list is still the active one.
        logger.debug("hotlist %s import failed", list_name, exc_info=True)
        raise HotlistImportError(f"{list_name} not imported, the previous list stays active: "
                                 f"{problem(exc, database.obj.database)}") from None
    # A large list leaves its pages in the WAL (about 100 MB for a million
    # entries). Copy them into the database and flush now, as part of the
    # import, not in whichever read's commit next crosses the WAL limit.
    try:
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    except (DatabaseError, sqlite3.DatabaseError) as exc:
        # The import is committed (in the WAL); the checkpoint is retried by SQLite later.
        logger.warning("hotlist %s imported, but the WAL could not be checkpointed: %s", list_name, exc)
    lists_changed()
    seconds = time.monotonic() - started
    logger.info("hotlist %s: %d entries imported in %.1f s", list_name, len(entries), seconds)
    return ImportResult(list_name, fmt, len(entries), replaced, sha, round(seconds, 3),
                        meta.get("expired_skipped", 0))


# Lists a file must not replace: what they hold would be lost, or kept apart by the sync.
KEPT_SOURCES = {
    "officer": "holds officer-entered wanted plates (alpr hotlist add), each with its reason, "
               "case number and expiry; a file cannot replace them",
    "regional": "comes from the regional server (alpr upload sync-hotlists), which would refuse "
                "it from then on as a local list",
}


def _check_replaceable(list_name: str, source: str) -> None:
    lst = HotlistList.get_or_none(HotlistList.name == list_name)
    if lst is not None and lst.source in KEPT_SOURCES and lst.source != source:
        raise HotlistImportError(f"{list_name} not imported, the list stays as it is: it "
                                 f"{KEPT_SOURCES[lst.source]}; import the file under another "
                                 "name (--list NAME)")


def _replace(path: Path, fmt: str, list_name: str, entries: list[Parsed], sha: str, *, username: str,
             priority: int | None, covert: bool | None, description: str | None,
             origin: dict | None = None) -> int:
    """The one transaction of an import: old entries out, new in, the list's record, the access
    record. Returns how many entries were replaced. The transaction takes the write lock as it
    begins (the database's default, gateway.store.db.open_database), so the reads in it wait for
    a gateway storing a read instead of failing "database is locked"."""
    with database.atomic():
        lst, _ = HotlistList.get_or_create(name=list_name, defaults={"source": fmt,
                                                                     "priority": NEW_LIST_PRIORITY[fmt]})
        replaced = HotlistEntry.delete().where(HotlistEntry.hotlist == lst).execute()
        _bulk_insert(lst.id, entries, FROM_CLETS[fmt])
        lst.source = fmt
        lst.from_clets = FROM_CLETS[fmt]
        if priority is not None:
            lst.priority = priority
        if covert is not None:
            lst.covert = covert
        if description is not None:
            lst.description = description
        lst.sha256 = sha
        if origin is not None:
            lst.source = origin["source"]
            lst.version = origin["version"]
            lst.sha256 = origin["sha256"]
        lst.record_count = len(entries)
        lst.imported_at = utcnow()
        lst.imported_by = username
        lst.save()
        match.bump_generation()
        audit.record("hotlist.import", username=username, query=f"{list_name} from {path.name}",
                     detail=f"{len(entries)} entries replace {replaced}; file sha256 {sha}")
    return replaced


def _bulk_insert(list_id: int, entries: list[Parsed], from_clets: bool) -> None:
    cursor = database.cursor()
    # Parsers share one extra dict among records with the same extra fields:
    # encode each distinct one once, not a million times.
    encoded: dict[int, str | None] = {id(None): None}
    for entry in entries:
        if id(entry[7]) not in encoded:
            encoded[id(entry[7])] = json.dumps(entry[7], separators=(",", ":"))
    sql = _insert_sql(list_id, from_clets)
    for start in range(0, len(entries), INSERT_CHUNK):
        cursor.executemany(sql, [
            (plate, pattern, state, code, description, incident,
             None if expires is None else str(expires), encoded[id(extra)])
            for plate, pattern, state, code, description, incident, expires, extra
            in entries[start:start + INSERT_CHUNK]])


def delete_list(list_name: str, *, username: str) -> int:
    lst = HotlistList.get_or_none(HotlistList.name == list_name)
    if lst is None:
        raise HotlistImportError(f"no hotlist named {list_name!r}")
    with database.atomic():
        count = HotlistEntry.delete().where(HotlistEntry.hotlist == lst).execute()
        lst.delete_instance()
        match.bump_generation()
        audit.record("hotlist.delete", username=username, query=list_name,
                     detail=f"{count} entries removed")
    lists_changed()
    return count


def lists_changed() -> None:
    """The hook after any list change: a loaded index in this process is rebuilt now."""
    if match.is_loaded():
        match.refresh()
