"""Retention: day 365 kept, day 366 purged unless held; the car's cache of delivered reads."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from _store_helpers import new_read

from gateway.config import StoreConfig
from gateway.store import holds, retention
from gateway.store.images import ImageStore
from gateway.store.models import AccessRecord, EvidenceHold, Read
from gateway.store.reads import save_read
from tools.cli.main import main

NOW = dt.datetime(2026, 11, 28, 12, 0)
STORE = StoreConfig(retention_days=365, image_cache_days=7, min_free_mb=10)


@pytest.fixture
def images(datadir):
    return ImageStore(datadir.images)


def seen_on_day(day: int, hour: int = 23) -> dt.datetime:
    """A time on day `day` counted from the read's own day (day 1) to NOW's day."""
    return dt.datetime.combine(NOW.date() - dt.timedelta(days=day - 1), dt.time(hour, 59))


def store(images, plate, day, hour=23):
    return save_read(new_read(plate, seen_at=seen_on_day(day, hour)), images, match=False)


def test_day_365_is_kept_and_day_366_purged(db, images):
    kept = store(images, "KEEP365", 365, hour=0)
    gone = store(images, "GONE366", 366, hour=23)
    result = retention.run(images, STORE, now=NOW)
    assert result.purged_reads == 1 and result.purged_undelivered == 1
    assert Read.get_or_none(Read.id == gone.id) is None
    assert not images.exists(gone.crop_sha256) and not images.exists(gone.context_sha256)
    assert Read.get_or_none(Read.id == kept.id) is not None and images.exists(kept.crop_sha256)
    purge = AccessRecord.get(AccessRecord.action == "retention.purge")
    assert "purged 1" in purge.detail


def test_a_hold_keeps_a_read_past_day_366_until_lifted(db, images):
    held = store(images, "HELD400", 400)
    holds.place([held.id], "24-0117", "sgt1", reason="evidence in homicide")
    result = retention.run(images, STORE, now=NOW)
    assert result.purged_reads == 0 and result.held_past_retention == 1
    assert Read.get_or_none(Read.id == held.id) is not None and images.exists(held.crop_sha256)
    assert holds.lift("24-0117", "sgt1", reason="case closed") == 1
    assert retention.run(images, STORE, now=NOW).purged_reads == 1
    assert Read.get_or_none(Read.id == held.id) is None
    actions = [r.action for r in AccessRecord.select().order_by(AccessRecord.id)]
    assert actions.index("hold.place") < actions.index("hold.lift")


def test_records_request_hold(db, images):
    read = store(images, "REQ999", 500)
    holds.place([read.id], "PRA-2026-3", "clerk", kind="records_request")
    assert retention.run(images, STORE, now=NOW).purged_reads == 0
    assert EvidenceHold.get().kind == "records_request"


def test_hold_needs_a_case_and_existing_reads(db, images):
    with pytest.raises(holds.HoldError, match="case number"):
        holds.place([1], " ", "sgt1")
    with pytest.raises(holds.HoldError, match="no stored read with id 42"):
        holds.place([42], "C-1", "sgt1")


def test_delivered_reads_leave_the_car_after_the_cache(db, images):
    fresh = store(images, "FRESH1", 3)
    old = store(images, "OLD1", 10)
    undelivered = store(images, "UNSENT1", 30)
    shared_context = save_read(new_read("OLD1", seen_at=seen_on_day(2)), images, match=False)
    for read, days_ago in ((fresh, 2), (old, 9)):
        Read.update(upload_state="done", uploaded_at=NOW - dt.timedelta(days=days_ago),
                    images_uploaded_at=NOW - dt.timedelta(days=days_ago)).where(
            Read.id == read.id).execute()
    result = retention.run(images, STORE, now=NOW)
    assert result.cache_removed_reads == 1
    assert Read.get_or_none(Read.id == old.id) is None
    assert Read.get_or_none(Read.id == fresh.id) is not None
    assert Read.get_or_none(Read.id == undelivered.id) is not None
    # An image another read still uses stays.
    assert images.exists(shared_context.context_sha256)


def test_cli_retention_run(tmp_path, capsys):
    data = str(tmp_path / "data")
    assert main(["--data", data, "retention", "run", "--now", "2026-11-28T12:00:00Z",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["purged_reads"] == 0 and out["free_mb"] > 0


def test_expired_hotlist_entries_are_removed(db, images):
    from gateway.hotlist.wanted import add_wanted
    from gateway.store.models import HotlistEntry, utcnow

    add_wanted("EXP1", reason="r", case_number="c", username="o",
               expires_at=utcnow() + dt.timedelta(seconds=30))
    add_wanted("LIVE1", reason="r", case_number="c", username="o",
               expires_at=utcnow() + dt.timedelta(days=3))
    result = retention.run(images, STORE, now=utcnow() + dt.timedelta(minutes=1))
    assert result.expired_entries == 1
    assert [e.plate for e in HotlistEntry.select()] == ["LIVE1"]


def test_a_hold_placed_while_retention_runs_still_keeps_the_read(db, images, monkeypatch):
    # The gateway's retention stage picks the expired reads, then deletes them; an administrator's
    # hold placed in between (another process) must still keep its read, and its hold.
    held = store(images, "HELD401", 401)
    gone = store(images, "GONE402", 402)
    real_delete = retention.delete_reads

    def hold_meanwhile(ids, imgs):
        if held.id in ids:
            holds.place([held.id], "24-0118", "sgt1", reason="placed during the purge")
        return real_delete(ids, imgs)

    monkeypatch.setattr(retention, "delete_reads", hold_meanwhile)
    result = retention.run(images, STORE, now=NOW)
    assert Read.get_or_none(Read.id == held.id) is not None and images.exists(held.crop_sha256)
    assert EvidenceHold.select().where(EvidenceHold.read == held.id).count() == 1
    assert Read.get_or_none(Read.id == gone.id) is None
    assert result.purged_reads == 1 and result.held_past_retention == 1


def test_image_files_no_read_refers_to_are_removed_after_a_grace_period(db, images, monkeypatch):
    # A crash between a purge's commit and its file deletes (or an image replaced under a read)
    # leaves files no row names: nothing ever removed them, so they outlived day 366 and took
    # disk space that the full-disk pruning could not find.
    import os
    import time

    gone = store(images, "GONE403", 403)
    kept = store(images, "KEEP010", 10)
    monkeypatch.setattr(ImageStore, "delete", lambda self, sha: False)  # the crash
    retention.run(images, STORE, now=NOW)
    monkeypatch.undo()
    assert Read.get_or_none(Read.id == gone.id) is None and images.exists(gone.crop_sha256)
    fresh = images.put(b"written a moment ago, its row not yet committed")
    old = time.time() - 2 * 3600
    for sha in (gone.crop_sha256, gone.context_sha256, kept.crop_sha256):
        os.utime(images.path(sha), (old, old))
    result = retention.run(images, STORE, now=NOW)
    assert result.orphan_images == 2
    assert not images.exists(gone.crop_sha256) and not images.exists(gone.context_sha256)
    assert images.exists(kept.crop_sha256) and images.exists(kept.context_sha256)
    assert images.exists(fresh)  # too new to tell from an image being stored right now
    assert "orphan images removed 2" in AccessRecord.select().where(
        AccessRecord.action == "retention.purge").order_by(AccessRecord.id.desc()).first().detail


def test_the_retention_stage_survives_a_failed_run_and_tries_again(images, monkeypatch):
    # A run that failed (a full disk refusing the database's writes, a long lock) killed the
    # stage; the supervisor's quick restarts then ran out within seconds and retention never
    # ran again while the gateway ran: reads kept past day 366, no more full-disk pruning.
    import threading

    from peewee import OperationalError

    stop = threading.Event()
    calls = []

    def failing_run(imgs, store_config, now=None, username="system"):
        calls.append(1)
        if len(calls) < 4:
            raise OperationalError("database or disk is full")
        stop.set()
        return retention.RetentionResult()

    monkeypatch.setattr(retention, "run", failing_run)
    stage = retention.RetentionStage(images, STORE, every_s=3600)
    monkeypatch.setattr(retention, "RETRY_AFTER_FAILURE_S", 0.01, raising=False)
    stage.run(stop)
    assert len(calls) == 4
