"""What the devices page shows about delivery: the backlog, the age of the
oldest unsent read, the last confirmed upload, and how old the hotlists are.
Read from the database, so it is right whether or not the uploader runs."""

from __future__ import annotations

import datetime as dt
import json

from peewee import fn

from gateway.store.models import HotlistList, Read, Setting, utcnow

HOTLIST_SYNC_KEY = "hotlist_sync.last_success"


def _setting_time(key: str) -> dt.datetime | None:
    row = Setting.get_or_none(Setting.key == key)
    if row is None or not row.value:
        return None
    try:
        return dt.datetime.fromisoformat(str(row.value))
    except ValueError:
        return None


def _age(then: dt.datetime | None, now: dt.datetime) -> float | None:
    return None if then is None else round(max(0.0, (now - then).total_seconds()), 1)


def _last_error() -> tuple[str, str | None]:
    from gateway.upload.uploader import LAST_ERROR_KEY

    row = Setting.get_or_none(Setting.key == LAST_ERROR_KEY)
    if row is None or not row.value:
        return "", None
    try:
        saved = json.loads(row.value)
        return str(saved.get("error", "")), saved.get("at")
    except (ValueError, AttributeError):
        return str(row.value), None


def upload_status(now: dt.datetime | None = None) -> dict:
    from gateway.upload.uploader import LAST_SUCCESS_KEY

    now = now or utcnow()
    backlog = Read.select().where(Read.upload_state == "pending").count()
    images_backlog = Read.select().where(Read.upload_state == "data_sent").count()
    oldest = (
        Read.select(fn.MIN(Read.seen_at)).where(Read.upload_state == "pending").scalar()
        if backlog else None
    )
    if isinstance(oldest, str):
        oldest = dt.datetime.fromisoformat(oldest)
    last = _setting_time(LAST_SUCCESS_KEY)
    synced = _setting_time(HOTLIST_SYNC_KEY)
    regional = HotlistList.select(fn.MIN(HotlistList.imported_at)).where(
        HotlistList.source == "regional"
    ).scalar()
    if isinstance(regional, str):
        regional = dt.datetime.fromisoformat(regional)
    # The lists are as old as the last successful sync; failing that, their import.
    lists_as_of = synced or regional
    last_error, last_error_at = _last_error()
    return {
        "backlog": backlog,
        "images_backlog": images_backlog,
        "oldest_unsent_at": oldest.isoformat() if oldest else None,
        "oldest_unsent_age_s": _age(oldest, now),
        "last_success_at": last.isoformat() if last else None,
        "last_success_age_s": _age(last, now),
        "hotlist_synced_at": lists_as_of.isoformat() if lists_as_of else None,
        "hotlist_age_s": _age(lists_as_of, now),
        # Why the last try failed (a 403 says the certificate may be revoked); cleared by
        # the next confirmed upload.
        "last_error": last_error,
        "last_error_at": last_error_at,
    }
