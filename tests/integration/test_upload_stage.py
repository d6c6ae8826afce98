"""The uploader as the gateway runs it: woken by a stored read, and its
status as the devices page shows it."""

from __future__ import annotations

import threading
import time

from _upload_helpers import RunningServer, add_reads, make_car, make_pki, server_uids

from gateway.events import EventBus
from gateway.store.db import open_database
from gateway.upload.stage import UploadStage


def test_stage_sends_reads_and_reports_status(tmp_path):
    folder = make_pki(tmp_path)
    server = RunningServer(tmp_path / "regional.db", folder).start()
    data, config = make_car(tmp_path, folder, server.url)
    db = open_database(data.database)
    bus = EventBus()
    stage = UploadStage(config, data, bus)
    stop = threading.Event()
    thread = threading.Thread(target=stage.run, args=(stop,), daemon=True)
    try:
        uids = add_reads(3)
        before = stage.status()
        assert before["backlog"] == 3 and before["oldest_unsent_at"] is not None
        thread.start()
        bus.publish("read", id=3, uid=uids[-1])
        end = time.monotonic() + 30
        while sorted(server_uids(tmp_path / "regional.db")) != sorted(uids):
            assert time.monotonic() < end
            time.sleep(0.05)
        end = time.monotonic() + 30
        while stage.status()["backlog"]:
            assert time.monotonic() < end
            time.sleep(0.05)
        after = stage.status()
        assert after["oldest_unsent_age_s"] is None
        assert after["last_success_at"] is not None
        assert after["session_reads_sent"] == 3
        assert after["config_error"] == ""
    finally:
        stop.set()
        thread.join(10)
        server.stop()
        db.close()


def test_misconfigured_stage_says_why_and_keeps_reads(tmp_path):
    from gateway.config import Config
    from gateway.datadir import DataDir

    data = DataDir(tmp_path / "car").ensure()
    config = Config()
    config.upload.enabled = True
    config.upload.server_url = "http://regional.example"
    db = open_database(data.database)
    stage = UploadStage(config, data, EventBus())
    stop = threading.Event()
    thread = threading.Thread(target=stage.run, args=(stop,), daemon=True)
    thread.start()
    try:
        end = time.monotonic() + 10
        while not stage.config_error:
            assert time.monotonic() < end
            time.sleep(0.05)
        assert "plaintext" in stage.status()["config_error"]
    finally:
        stop.set()
        thread.join(5)
        db.close()
