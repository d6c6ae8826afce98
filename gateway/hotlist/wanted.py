"""Officer-entered "new wanted" entries (policy 462.3(c)).

A plate or a partial plate (`7AB*`, `?AB1?3`) from a crime report, with a
reason, a case number and an expiry. The entry is matched from the next read
on, and at once checked against the reads already stored, which the officer
gets back to look at.
"""

from __future__ import annotations

import datetime as dt
import logging

from gateway.errors import AlprError
from gateway.hotlist import match
from gateway.hotlist.plates import is_pattern, normalize, valid_pattern, valid_plate
from gateway.hotlist.records import state_code
from gateway.store import audit
from gateway.store.models import HotlistEntry, HotlistList, Read, database, utcnow

logger = logging.getLogger(__name__)

WANTED_LIST = "wanted"
MAX_DAYS = 365


class WantedError(AlprError):
    """The officer's entry is incomplete or invalid; nothing was added."""


def add_wanted(plate: str, *, reason: str, case_number: str, expires_at: dt.datetime,
               username: str, state: str = "", description: str = "",
               list_name: str = WANTED_LIST, priority: int = 1,
               ) -> tuple[HotlistEntry, list[tuple[Read, str, float]]]:
    """Add an entry; returns it and the stored reads it matches, best first."""
    text = normalize(plate)
    pattern = is_pattern(text)
    if not (valid_pattern(text) if pattern else valid_plate(text)):
        raise WantedError(f"plate {plate!r} is not 1-10 letters and digits (* for any run, "
                          "? for one unknown character)")
    if not reason.strip() or not case_number.strip():
        raise WantedError("a wanted entry needs a reason and a case number")
    code = state_code(state)
    if code is None:
        raise WantedError(f"state {state!r} is not a two-letter code (CA, NV, ...); leave it empty "
                          "if it is not known")
    now = utcnow()
    if expires_at <= now:
        raise WantedError("the expiry is already past")
    if expires_at > now + dt.timedelta(days=MAX_DAYS):
        raise WantedError(f"the expiry is more than {MAX_DAYS} days away; enter it again later")
    with database.atomic():
        lst, _ = HotlistList.get_or_create(
            name=list_name, defaults={"source": "officer", "priority": priority,
                                      "description": "officer-entered wanted plates"})
        entry = HotlistEntry.create(
            hotlist=lst, plate=text, is_pattern=pattern, state=code, list_code="wanted",
            description=description, reason=reason, case_number=case_number,
            expires_at=expires_at, entered_by=username, entered_at=now)
        _recount([lst.id])
        match.bump_generation()
        audit.record("hotlist.add", username=username, query=text, purpose=reason,
                     case_number=case_number, detail=f"list {list_name}, expires {expires_at}")
    match.entry_added(entry)
    found = check_reads(entry)
    shown = ",".join(str(read.id) for read, _kind, _quality in found)
    audit.record("reads.search", username=username, query=text, purpose=reason,
                 case_number=case_number, detail=f"new wanted entry checked against stored "
                                                  f"reads: {len(found)} found"
                                                  + (f"; ids {shown}" if found else ""))
    return entry, found


def check_reads(entry: HotlistEntry) -> list[tuple[Read, str, float]]:
    """Stored reads the entry matches, best first."""
    found = []
    query = Read.select(Read.id, Read.plate, Read.candidates).order_by(Read.id)
    for read in query.iterator():
        texts = [read.plate] + [c.get("text", "") for c in (read.candidates or [])
                                if isinstance(c, dict)]
        hit = match.match_entry(entry.plate, entry.is_pattern, texts)
        if hit:
            found.append((read.id, hit[0], hit[1]))
    found.sort(key=lambda f: (-f[2], -f[0]))
    reads = {r.id: r for r in Read.select().where(Read.id.in_([f[0] for f in found]))}
    return [(reads[rid], kind, quality) for rid, kind, quality in found if rid in reads]


def remove(entry_id: int, *, username: str, note: str = "") -> None:
    entry = HotlistEntry.get_or_none(HotlistEntry.id == entry_id)
    if entry is None:
        raise WantedError(f"no hotlist entry with id {entry_id}")
    with database.atomic():
        entry.delete_instance()
        _recount([entry.hotlist_id])
        match.bump_generation()
        audit.record("hotlist.remove", username=username, query=entry.plate,
                     case_number=entry.case_number, detail=note)
    if match.is_loaded():
        match.refresh()


def purge_expired(now: dt.datetime | None = None, username: str = "system") -> int:
    """Delete entries whose expiry has passed (they already match nothing)."""
    now = now or utcnow()
    with database.atomic():
        expired = HotlistEntry.expires_at <= now
        lists = [row.hotlist_id for row in
                 HotlistEntry.select(HotlistEntry.hotlist).where(expired).distinct()]
        count = HotlistEntry.delete().where(expired).execute()
        if count:
            _recount(lists)
            match.bump_generation()
            audit.record("hotlist.expire", username=username, detail=f"{count} expired entries removed")
    return count


def _recount(list_ids: list[int]) -> None:
    """Keep the lists' sizes (`alpr hotlist lists`, the Hotlists page) true after a change."""
    for list_id in list_ids:
        HotlistList.update(record_count=HotlistEntry.select().where(
            HotlistEntry.hotlist == list_id).count()).where(HotlistList.id == list_id).execute()
