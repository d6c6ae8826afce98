"""Storing reads: images by hash, durable row, alerts, then events; search; full disk."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading

import pytest
from _store_helpers import clew_file, new_read

from gateway.events import bus
from gateway.hotlist.importer import import_file
from gateway.store import diskspace
from gateway.store.images import ImageStore, ImageStoreError
from gateway.store.models import Alert, AlertEvent, Read, Setting
from gateway.store.reads import ReadError, save_read, search_reads


@pytest.fixture
def images(datadir):
    return ImageStore(datadir.images)


def drain(sub):
    events = []
    while (event := sub.get(timeout=0.05)) is not None:
        events.append(event)
    return events


def test_image_store_is_content_addressed(images):
    sha = images.put(b"jpeg bytes")
    assert sha == hashlib.sha256(b"jpeg bytes").hexdigest()
    assert images.path(sha) == images.root / sha[:2] / f"{sha}.jpg"
    assert images.read(sha) == b"jpeg bytes" and images.exists(sha)
    assert images.put(b"jpeg bytes") == sha
    assert images.delete(sha) and not images.exists(sha)
    with pytest.raises(ImageStoreError, match="not stored"):
        images.read(sha)
    with pytest.raises(ImageStoreError, match="not an image name"):
        images.path("../../etc/passwd")


def test_interrupted_image_write_is_recovered(images):
    staged = images.stage(b"half way")
    images.commit([])  # nothing renamed: as if the process died after the flush
    assert staged.tmp.exists() and not staged.target.exists()
    torn = images.root / "ab" / (".ab" + "0" * 62 + ".x.tmp")
    torn.parent.mkdir(parents=True, exist_ok=True)
    torn.write_bytes(b"torn")
    assert images.recover() == 1
    assert images.read(staged.sha) == b"half way" and not torn.exists()


def test_save_read_stores_images_row_then_publishes(db, images):
    sub = bus.subscribe()
    read = save_read(new_read("ABC123", "A8C123"), images)
    stored = Read.get_by_id(read.id)
    assert stored.plate == "ABC123" and stored.upload_state == "pending"
    assert stored.candidates[1] == {"text": "A8C123", "confidence": 0.5}
    assert images.read(stored.crop_sha256) == b"crop-ABC123"
    assert images.read(stored.context_sha256) == b"context-ABC123"
    events = drain(sub)
    sub.close()
    assert [(e.kind, e.data) for e in events] == [("read", {"id": read.id, "uid": read.uid})]


def test_stored_row_is_what_the_model_reads_back(db, images):
    read = save_read(new_read("XYZ789", "XY2789"), images)
    stored = Read.get_by_id(read.id)
    for name in ("uid", "plate", "confidence", "candidates", "seen_at", "crop_sha256", "box", "frames"):
        assert getattr(stored, name) == getattr(read, name), name
    assert isinstance(stored.created_at, dt.datetime) and stored.upload_state == "pending"
    assert len({save_read(new_read("XYZ789"), images).uid for _ in range(3)} | {read.uid}) == 4


def test_failed_image_flush_stores_no_row_and_warns(db, images, monkeypatch):
    from gateway.store.images import DiskFullError

    def full(self, *_):
        raise DiskFullError("the disk holding the images is full")

    # Whichever way this machine flushes: one syncfs, or image by image.
    monkeypatch.setattr(ImageStore, "flush", full)
    monkeypatch.setattr(ImageStore, "commit", full)
    sub = bus.subscribe()
    with pytest.raises(DiskFullError):
        save_read(new_read("FULL01"), images)
    assert Read.select().where(Read.plate == "FULL01").count() == 0
    events = drain(sub)
    sub.close()
    assert not any(e.kind == "read" for e in events)
    assert any(e.kind == "warning" and e.data["source"] == "disk" for e in events)
    assert not list(images.root.glob("*/.*.tmp"))  # its staged images were removed too
    monkeypatch.undo()
    assert save_read(new_read("FULL01"), images).id  # the caller kept it and tries again


def test_disk_full_for_the_database_too_still_warns_and_raises_disk_full(db, images, monkeypatch):
    # A really full disk refuses the images and the database's own writes alike: the warning
    # must still reach the officer, and the caller must get DiskFullError, not a database error.
    from peewee import OperationalError

    from gateway.store.images import DiskFullError

    delivered = save_read(new_read("DONE333"), images)
    Read.update(upload_state="done").where(Read.id == delivered.id).execute()

    def full(self, *_):
        raise DiskFullError("the disk holding the images is full")

    def db_full(*_args, **_kwargs):
        raise OperationalError("database or disk is full")

    monkeypatch.setattr(ImageStore, "stage", full)
    monkeypatch.setattr(Read, "update", db_full)
    monkeypatch.setattr(Setting, "insert", db_full)
    sub = bus.subscribe()
    with pytest.raises(DiskFullError):
        save_read(new_read("FULL02"), images)
    events = drain(sub)
    sub.close()
    assert any(e.kind == "warning" and e.data["source"] == "disk" for e in events)


@pytest.mark.parametrize("fault", ["images read-only", "attempt to write a readonly database",
                                   "database disk image is malformed"])
def test_a_data_disk_gone_read_only_warns_the_officer(db, images, monkeypatch, fault):
    # ext4 remounts itself read-only after an I/O error: every read then failed to store, and
    # only a full disk was ever told to the officer.
    from peewee import OperationalError

    from gateway.store import reads as store_reads

    def images_ro(self, *_):
        raise ImageStoreError(f"cannot write image under {self.root}: Read-only file system")

    def database_ro(*_args, **_kwargs):
        raise OperationalError(fault)

    if fault == "images read-only":
        monkeypatch.setattr(ImageStore, "stage", images_ro)
    else:
        monkeypatch.setattr(store_reads, "_insert_rows", database_ro)
    sub = bus.subscribe()
    with pytest.raises((ImageStoreError, OperationalError)):
        save_read(new_read("RO0001"), images)
    events = drain(sub)
    sub.close()
    warnings = [e.data["message"] for e in events if e.kind == "warning"]
    assert warnings and "could not be stored" in warnings[0] and "data disk" in warnings[0]


def test_entry_added_while_a_read_is_being_written_still_alerts(db, images):
    from gateway.hotlist import match
    from gateway.hotlist.wanted import add_wanted
    from gateway.store import reads as store_reads

    match.refresh()
    new = new_read("RACE01")
    matching = store_reads._Matching([new], True)  # matched before the officer's entry existed
    assert matching.hits == [[]]
    _, found = add_wanted("RACE01", reason="stolen", case_number="C-9", username="officer",
                          expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1))
    assert found == []  # the read is not committed yet, so the officer's check cannot see it
    [(read, alerts)] = store_reads._committer.submit([new], matching, images)
    assert [(a.entry_plate, a.match_kind) for a in alerts] == [("RACE01", "exact")]
    assert Alert.select().where(Alert.read == read.id).count() == 1


@pytest.mark.parametrize("another_list", [False, True])
def test_a_read_between_a_list_import_elsewhere_and_the_index_rebuild_alerts_rightly(
        db, images, tmp_path, monkeypatch, another_list):
    # A list imported by another process (alpr hotlist import, the regional sync) gets new entry
    # ids; until this process rebuilt its index (seconds for a large list), its hits named the
    # old ids. Where those were gone the alert was dropped (a plate on both versions went
    # silent); where SQLite handed them to the new entries (an emptied table starts again at 1)
    # a plate no longer listed alerted, tied to another plate's entry.
    from gateway.hotlist import match

    import_file(clew_file(tmp_path / "v1.tbl", [("ABC123", "CA"), ("GONE999", "CA")]), "clew",
                "svs", username="t")
    if another_list:  # its entries after svs's: the new svs entries get ids never used
        import_file(clew_file(tmp_path / "o.tbl", [("OTHER11", "CA")]), "clew", "other",
                    username="t")
    match.get_matcher()
    monkeypatch.setattr(match, "is_loaded", lambda: False)  # the import runs in another process
    import_file(clew_file(tmp_path / "v2.tbl", [("ABC123", "CA"), ("NEW777", "CA")]), "clew",
                "svs", username="t")
    monkeypatch.undo()
    kept = save_read(new_read("ABC123"), images)
    assert [(a.list_name, a.entry_plate) for a in Alert.select().where(Alert.read == kept)] == [
        ("svs", "ABC123")]
    assert Alert.get(Alert.read == kept).entry.plate == "ABC123"
    dropped = save_read(new_read("GONE999"), images)  # not on the new version: no alert
    assert not Alert.select().where(Alert.read == dropped).exists()


def test_alerts_are_raised_in_priority_order_and_covert_ones_not_published(db, images, tmp_path):
    import_file(clew_file(tmp_path / "a.tbl", [("ABC123", "CA")]), "clew", "svs", username="t",
                priority=5)
    import_file(clew_file(tmp_path / "b.tbl", [("ABC123", "CA")]), "clew", "sfr", username="t",
                priority=1)
    import_file(clew_file(tmp_path / "c.tbl", [("ABC123", "CA")]), "clew", "task", username="t",
                covert=True)
    sub = bus.subscribe()
    read = save_read(new_read("ABC123"), images)
    events = drain(sub)
    sub.close()
    assert [e.kind for e in events] == ["read", "alert", "alert"]
    published = [Alert.get_by_id(e.data["id"]) for e in events[1:]]
    assert [a.list_name for a in published] == ["sfr", "svs"]
    assert all(e.data["covert"] is False and e.data["read_id"] == read.id for e in events[1:])
    covert = Alert.get(Alert.list_name == "task")
    assert covert.covert and covert.read_id == read.id
    assert AlertEvent.get(AlertEvent.alert == covert).step == "new"


def test_without_syncfs_images_and_rows_are_flushed_one_by_one(db, datadir, monkeypatch):
    from gateway.store import images as images_module
    from gateway.store import reads as store_reads

    monkeypatch.setattr(images_module, "_SYNCFS", None)
    monkeypatch.setattr(store_reads, "_committer", store_reads._GroupCommitter())
    store = ImageStore(datadir.images)
    assert not store.flushes_with(datadir.database)
    read = save_read(new_read("NOSYNC1"), store)
    assert Read.get_by_id(read.id).plate == "NOSYNC1"
    assert store.read(read.crop_sha256) == b"crop-NOSYNC1"
    assert not list(store.root.glob("*/.*.tmp"))


def test_concurrent_saves_all_land(db, images):
    def worker(n):
        for i in range(10):
            save_read(new_read(f"T{n}X{i:03d}"), images)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Read.select().count() == 40
    assert all(images.exists(r.crop_sha256) for r in Read.select())


def test_search_by_plate_candidate_wildcard_time_and_area(db, images):
    a = save_read(new_read("7ABC123", "7A8C123", seen_at=dt.datetime(2026, 1, 1)), images)
    b = save_read(new_read("7ABX999", seen_at=dt.datetime(2026, 2, 1)), images)
    assert [r.id for r in search_reads("7abc123")] == [a.id]
    assert [r.id for r in search_reads("7A8C123")] == [a.id]
    assert [r.id for r in search_reads("7AB*")] == [b.id, a.id]
    assert [r.id for r in search_reads("7AB*", since=dt.datetime(2026, 1, 15))] == [b.id]
    assert search_reads("7AB*", bbox=(0, 0, 1, 1)) == []
    assert len(search_reads("", bbox=(37, -123, 38, -122))) == 2
    with pytest.raises(ReadError, match="at least one plate character"):
        search_reads("**")


def test_full_disk_prunes_delivered_images_only_and_warns(db, images):
    sub = bus.subscribe()
    delivered = save_read(new_read("DONE111"), images)
    pending = save_read(new_read("WAIT222"), images)
    Read.update(upload_state="done").where(Read.id == delivered.id).execute()
    # Ask for more free space than any disk has: everything prunable goes, then a warning.
    result = diskspace.ensure_free(images, min_free_mb=10**12)
    assert result["pruned_reads"] == 1
    assert not images.exists(delivered.crop_sha256)
    assert Read.get_by_id(delivered.id).images_pruned_at is not None
    assert images.exists(pending.crop_sha256) and images.exists(pending.context_sha256)
    assert "nearly full" in result["warning"]["message"]
    assert Setting.get(Setting.key == diskspace.WARNING_KEY).value == result["warning"]
    assert any(e.kind == "warning" and e.data["source"] == "disk" for e in drain(sub))
    sub.close()
    diskspace.ensure_free(images, min_free_mb=1)
    assert diskspace.current_warning() is None


def test_full_disk_pruning_spares_a_read_held_while_it_runs(db, images, monkeypatch):
    # The delivered reads to prune were chosen first and pruned one by one after: a hold placed
    # in between (an administrator's, from another process) lost its read's images on the car.
    from gateway.store import holds

    delivered = save_read(new_read("DONE444"), images)
    Read.update(upload_state="done").where(Read.id == delivered.id).execute()
    real_utcnow = diskspace.utcnow
    placed = []

    def hold_meanwhile():
        if not placed:
            placed.append(holds.place([delivered.id], "24-0119", "sgt1", reason="meanwhile"))
        return real_utcnow()

    monkeypatch.setattr(diskspace, "utcnow", hold_meanwhile)
    assert diskspace.prune_delivered_images(images) == (0, 0)
    monkeypatch.undo()
    assert placed and Read.get_by_id(delivered.id).images_pruned_at is None
    assert images.exists(delivered.crop_sha256) and images.exists(delivered.context_sha256)


def test_cli_search_requires_purpose_and_case_and_is_recorded(db, datadir, capsys, monkeypatch):
    import json

    from _store_helpers import cli_account, proof

    from gateway.store.models import AccessRecord
    from tools.cli.main import main

    data = str(datadir.root)
    with pytest.raises(SystemExit):
        main(["--data", data, "reads", "search", "7AB*"])
    assert "--purpose" in capsys.readouterr().err
    det1 = cli_account("det1")
    assert main(["--data", data, "reads", "search", "7AB*", "--purpose", "robbery follow-up",
                 "--case", "24-0117", *proof(monkeypatch, det1), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"reads": []}
    rec = AccessRecord.get(AccessRecord.action == "reads.search")
    assert (rec.username, rec.query, rec.purpose, rec.case_number) == (
        "det1", "7AB*", "robbery follow-up", "24-0117")


def test_cli_search_until_a_date_takes_in_that_whole_day(db, datadir, images, capsys, monkeypatch):
    import json

    from _store_helpers import cli_account, proof

    from tools.cli.main import main

    save_read(new_read("7ABC123", seen_at=dt.datetime(2026, 11, 28, 21, 30)), images)
    save_read(new_read("7ABC124", seen_at=dt.datetime(2026, 11, 29, 0, 0)), images)
    det1 = cli_account("det1")
    assert main(["--data", str(datadir.root), "reads", "search", "7ABC12?", "--until", "2026-11-28",
                 "--purpose", "robbery follow-up", "--case", "24-0117", *proof(monkeypatch, det1),
                 "--json"]) == 0
    assert [r["plate"] for r in json.loads(capsys.readouterr().out)["reads"]] == ["7ABC123"]


def test_a_write_failing_after_its_commit_leaves_no_row_behind(db, images, monkeypatch):
    from gateway.store import reads as store_reads

    def broken(stored, matching):
        raise RuntimeError("index lookup failed")

    monkeypatch.setattr(store_reads, "_rematched", broken)
    with pytest.raises(RuntimeError, match="index lookup failed"):
        save_read(new_read("RETRY1"), images)
    assert Read.select().where(Read.plate == "RETRY1").count() == 0
    monkeypatch.undo()
    assert save_read(new_read("RETRY1"), images).plate == "RETRY1"
    assert Read.select().where(Read.plate == "RETRY1").count() == 1
