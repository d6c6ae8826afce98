"""The access record: every access, chained by SHA-256 so tampering shows.

Each record's hash covers the previous record's hash and its own canonical
fields; changing or removing a record breaks the chain at that point, and the
head hash kept in the Setting table shows a removed tail.

Writers are serialised by SQLite's own write lock, taken before the last
hash is read (the store's transactions all begin IMMEDIATE; inside a
caller's transaction, the caller's BEGIN took it). That lock covers threads and processes alike; a
Python lock as well would deadlock against a caller that holds the SQLite
lock and waits for it. `prev_hash` is unique, so the chain can never fork.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass

from gateway.store.models import AccessRecord, Setting, database, utcnow

logger = logging.getLogger(__name__)

GENESIS = "0" * 64
HEAD_KEY = "audit.head"
_defaults = {"agency": "", "terminal": ""}


def configure(agency: str, terminal: str) -> None:
    """Set the agency and terminal recorded when a caller gives none (from config.agency)."""
    _defaults["agency"] = agency
    _defaults["terminal"] = terminal


def iso_utc(moment: dt.datetime | None = None) -> str:
    moment = moment or utcnow()
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_FIELDS = ("at", "username", "agency", "terminal", "action", "query", "purpose",
           "case_number", "outcome", "detail")


def compute_hash(prev_hash: str, fields: dict) -> str:
    canonical = json.dumps([prev_hash] + [str(fields[name]) for name in _FIELDS],
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(action: str, *, username: str = "", query: str = "", purpose: str = "",
           case_number: str = "", outcome: str = "ok", detail: str = "",
           agency: str | None = None, terminal: str | None = None) -> AccessRecord:
    """Append one access record and return it."""
    fields = {
        "username": username, "agency": _defaults["agency"] if agency is None else agency,
        "terminal": _defaults["terminal"] if terminal is None else terminal,
        "action": action, "query": query, "purpose": purpose, "case_number": case_number,
        "outcome": outcome, "detail": detail,
    }
    # The store begins every transaction with the write lock (gateway/store/db.py); nested
    # inside a caller's transaction this becomes a savepoint, under the caller's lock.
    with database.atomic():
        last = AccessRecord.select(AccessRecord.hash).order_by(AccessRecord.id.desc()).first()
        prev = last.hash if last else GENESIS
        fields["at"] = iso_utc()
        digest = compute_hash(prev, fields)
        rec = AccessRecord.create(prev_hash=prev, hash=digest, **fields)
        Setting.insert(key=HEAD_KEY, value={"id": rec.id, "hash": digest},
                       updated_at=utcnow()).on_conflict(
            conflict_target=[Setting.key],
            update={Setting.value: {"id": rec.id, "hash": digest}, Setting.updated_at: utcnow()},
        ).execute()
    return rec


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_at_id: int | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        return {"ok": self.ok, "checked": self.checked, "broken_at_id": self.broken_at_id,
                "reason": self.reason}


def verify() -> VerifyResult:
    """Walk the whole chain; report the first record where it breaks."""
    prev = GENESIS
    checked = 0
    last_id = None
    query = AccessRecord.select().order_by(AccessRecord.id).iterator()
    for rec in query:
        fields = {name: getattr(rec, name) for name in _FIELDS}
        if rec.prev_hash != prev:
            return VerifyResult(False, checked, rec.id,
                                "a record before this one was removed or changed (link broken)")
        if compute_hash(prev, fields) != rec.hash:
            return VerifyResult(False, checked, rec.id, "this record was changed after it was written")
        prev = rec.hash
        last_id = rec.id
        checked += 1
    head = Setting.get_or_none(Setting.key == HEAD_KEY)
    if head is not None and head.value:
        if head.value.get("hash") != prev:
            return VerifyResult(False, checked, head.value.get("id"),
                                f"records after id {last_id} were removed (head hash does not match)")
    elif checked:
        return VerifyResult(False, checked, None, "the chain head marker is missing")
    return VerifyResult(True, checked)
