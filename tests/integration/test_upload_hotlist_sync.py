"""Hotlist sync against the real reference server: only what changed is
fetched, each list is checked and swapped whole, a failure keeps the old one."""

from __future__ import annotations

import sqlite3

import pytest
from _upload_helpers import RunningServer, make_car, make_pki

from gateway.store.db import open_database
from gateway.store.models import HotlistEntry, HotlistList
from gateway.upload.hotlist_sync import HotlistSync, HotlistSyncError
from gateway.upload.status import upload_status
from tools.regional import hotlists
from tools.regional.models import open_regional


@pytest.fixture
def setup(tmp_path):
    folder = make_pki(tmp_path)
    server = RunningServer(tmp_path / "regional.db", folder).start()
    data, config = make_car(tmp_path, folder, server.url)
    regional_db = open_regional(tmp_path / "regional.db")
    car = open_database(data.database)
    yield tmp_path, server, HotlistSync(config, data.root)
    car.close()
    regional_db.close()
    server.stop()


def _plates(name):
    lst = HotlistList.get(HotlistList.name == name)
    return sorted(e.plate for e in HotlistEntry.select().where(HotlistEntry.hotlist == lst))


def _fetches(tmp_path):
    con = sqlite3.connect(tmp_path / "regional.db")
    try:
        return con.execute("SELECT COUNT(*) FROM regional_access WHERE action='hotlist'").fetchone()[0]
    finally:
        con.close()


SVS = [{"plate": "7ABC123", "state": "CA", "list": "svs", "description": "stolen"},
       {"plate": "8XYZ99*", "state": "", "list": "svs", "description": "partial"}]


def test_first_sync_then_only_changes(setup):
    tmp_path, _server, sync = setup
    hotlists.publish("svs", SVS, priority=2)
    hotlists.publish("sfr", [{"plate": "5DEF456", "list": "sfr"}], covert=True)
    assert upload_status()["hotlist_age_s"] is None

    first = sync.sync_once()
    assert first.ok and sorted(first.updated) == ["sfr", "svs"]
    assert _plates("svs") == ["7ABC123", "8XYZ99*"]
    svs = HotlistList.get(HotlistList.name == "svs")
    assert (svs.source, svs.priority, svs.record_count) == ("regional", 2, 2)
    assert HotlistList.get(HotlistList.name == "sfr").covert
    assert upload_status()["hotlist_age_s"] is not None

    fetched = _fetches(tmp_path)
    again = sync.sync_once()
    assert sorted(again.unchanged) == ["sfr", "svs"] and not again.updated
    assert _fetches(tmp_path) == fetched  # nothing downloaded twice

    hotlists.publish("svs", [{"plate": "9GHI789", "list": "svs"}])
    changed = sync.sync_once()
    assert changed.updated == ["svs"] and changed.unchanged == ["sfr"]
    assert _plates("svs") == ["9GHI789"]


def test_corrupted_download_keeps_the_previous_list(setup):
    tmp_path, _server, sync = setup
    hotlists.publish("svs", SVS)
    assert sync.sync_once().ok
    synced_at = upload_status()["hotlist_synced_at"]
    hotlists.publish("svs", [{"plate": "1AAA111"}])
    con = sqlite3.connect(tmp_path / "regional.db")
    con.execute("UPDATE regional_hotlist SET body = ? WHERE name = 'svs'",
                (b'[{"plate":"6EVIL66"}]',))
    con.commit()
    con.close()
    result = sync.sync_once()
    assert not result.ok and "SHA-256" in result.failed["svs"]
    assert _plates("svs") == ["7ABC123", "8XYZ99*"]
    assert upload_status()["hotlist_synced_at"] == synced_at  # the officer sees the real age


def test_server_down_keeps_lists_and_their_age(setup):
    _tmp, server, sync = setup
    hotlists.publish("svs", SVS)
    assert sync.sync_once().ok
    server.stop()
    # A named error an officer can read, not a requests traceback.
    with pytest.raises(HotlistSyncError, match="cannot reach the regional server.*unchanged"):
        sync.sync_once()
    assert _plates("svs") == ["7ABC123", "8XYZ99*"]
    assert upload_status()["hotlist_age_s"] is not None


def test_a_withdrawn_list_is_removed(setup):
    _tmp, _server, sync = setup
    hotlists.publish("svs", SVS)
    hotlists.publish("old", [{"plate": "2BBB222"}])
    assert sync.sync_once().ok
    from tools.regional.models import RegionalHotlist

    RegionalHotlist.delete().where(RegionalHotlist.name == "old").execute()
    result = sync.sync_once()
    assert result.removed == ["old"]
    assert HotlistList.get_or_none(HotlistList.name == "old") is None


def test_a_malformed_list_is_refused_by_name_and_the_others_still_sync(setup):
    # A body of bare strings, with its SHA-256 and count right, crashed the sync
    # (AttributeError) and skipped every list after it.
    _tmp, _server, sync = setup
    hotlists.publish("bolo", [{"plate": "4BOL000", "list": "bolo"}])
    assert sync.sync_once().ok
    hotlists.publish("bolo", ["ABC123", "XYZ"])
    hotlists.publish("svs", SVS)
    result = sync.sync_once()
    assert not result.ok and list(result.failed) == ["bolo"]
    assert "record 1" in result.failed["bolo"]
    assert result.updated == ["svs"] and _plates("svs") == ["7ABC123", "8XYZ99*"]
    assert _plates("bolo") == ["4BOL000"]  # the previous copy stays active


def test_the_sync_stage_survives_unexpected_errors_and_says_why(setup):
    import threading
    import time
    from types import SimpleNamespace

    from gateway.upload.hotlist_sync import HotlistSyncStage

    _tmp, _server, sync = setup
    config = SimpleNamespace(upload=SimpleNamespace(enabled=True, hotlist_sync_minutes=60))
    stage = HotlistSyncStage(config, _tmp)

    def broken():
        raise AttributeError("'str' object has no attribute 'get'")

    stage.sync.sync_once = broken
    stop = threading.Event()
    thread = threading.Thread(target=stage.run, args=(stop,), daemon=True)
    thread.start()
    try:
        end = time.monotonic() + 10
        while not stage.last_error and thread.is_alive() and time.monotonic() < end:
            time.sleep(0.02)
        assert thread.is_alive()
        assert "AttributeError" in stage.status()["last_error"]
    finally:
        stop.set()
        thread.join(5)


def test_a_sync_cut_short_after_the_import_is_finished_by_the_next(setup, monkeypatch):
    # The list's regional identity (source, version) was written in a second transaction after
    # the import's: a crash or a database error in between left a "csv" list of the regional
    # name, and every later sync refused it as a local list ("rename it").
    from peewee import OperationalError

    from gateway.upload import hotlist_sync

    _tmp_path, _server, sync = setup
    hotlists.publish("svs", SVS, priority=2)
    real_update = HotlistList.update

    def cut_short(*args, **kwargs):
        if kwargs.get("source") == hotlist_sync.SOURCE:
            raise OperationalError("disk I/O error")
        return real_update(*args, **kwargs)

    monkeypatch.setattr(HotlistList, "update", staticmethod(cut_short))
    first = sync.sync_once()
    monkeypatch.undo()
    assert "svs" in first.failed
    again = sync.sync_once()
    assert again.ok, again.failed
    assert _plates("svs") == ["7ABC123", "8XYZ99*"]
    assert HotlistList.get(HotlistList.name == "svs").source == "regional"


def test_a_description_over_several_lines_is_synced_on_one(setup):
    _tmp_path, _server, sync = setup
    hotlists.publish("svs", [{"plate": "7ABC123", "list": "svs", "description": "grey van\nCA plates"}])
    assert sync.sync_once().ok
    assert HotlistEntry.get(HotlistEntry.plate == "7ABC123").description == "grey van CA plates"
