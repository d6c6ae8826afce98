"""The devices page's delivery figures, straight from the database."""

import datetime as dt

from gateway.store.models import HotlistList, Read, Setting
from gateway.upload.status import HOTLIST_SYNC_KEY, upload_status
from gateway.upload.uploader import LAST_SUCCESS_KEY

NOW = dt.datetime(2026, 11, 28, 12, 0, 0)


def _read(minutes_ago, state):
    return Read.create(plate="7ABC123", confidence=0.9, seen_at=NOW - dt.timedelta(minutes=minutes_ago),
                       upload_state=state)


def test_backlog_and_oldest_unsent(db):
    _read(90, "done")
    _read(30, "pending")
    _read(10, "pending")
    _read(5, "data_sent")
    status = upload_status(now=NOW)
    assert status["backlog"] == 2
    assert status["images_backlog"] == 1
    assert status["oldest_unsent_age_s"] == 30 * 60
    assert status["last_success_at"] is None and status["hotlist_age_s"] is None


def test_last_upload_and_hotlist_age(db):
    Setting.create(key=LAST_SUCCESS_KEY, value=(NOW - dt.timedelta(seconds=42)).isoformat())
    HotlistList.create(name="svs", source="regional", imported_at=NOW - dt.timedelta(hours=5))
    status = upload_status(now=NOW)
    assert status["last_success_age_s"] == 42
    assert status["hotlist_age_s"] == 5 * 3600  # no sync recorded: the lists' import time
    Setting.create(key=HOTLIST_SYNC_KEY, value=(NOW - dt.timedelta(hours=1)).isoformat())
    assert upload_status(now=NOW)["hotlist_age_s"] == 3600
    assert upload_status(now=NOW)["backlog"] == 0
