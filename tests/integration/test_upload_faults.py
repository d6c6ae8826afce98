"""The uploader against the real reference server on loopback, under the
faults a patrol car meets. In every case each read arrives exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from _upload_helpers import (
    RunningServer,
    add_reads,
    make_car,
    make_pki,
    server_images,
    server_uids,
)

from gateway.store.db import open_database
from gateway.store.models import Read
from gateway.upload.status import upload_status
from gateway.upload.transport import TransportConfigError, make_session
from gateway.upload.uploader import Uploader
from tools.regional.linksim import LinkSim

REPO = Path(__file__).resolve().parents[2]
DEADLINE_S = 60  # a safety net against a hang, not a timing assertion


@pytest.fixture
def region(tmp_path):
    folder = make_pki(tmp_path)
    servers = []

    def start(**faults):
        server = RunningServer(tmp_path / "regional.db", folder, faults=faults).start()
        servers.append(server)
        return server

    yield tmp_path, folder, start
    for server in servers:
        server.stop()


@pytest.fixture
def car_db():
    opened = []

    def open_car(data):
        db = open_database(data.database)
        opened.append(db)
        return db

    yield open_car
    for db in opened:
        db.close()


class Running:
    """An Uploader in a thread, stopped on exit."""

    def __init__(self, config, data, **kwargs):
        self.uploader = Uploader(config, data.root, **kwargs)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.uploader.run, args=(self.stop,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(15)

    def wait(self, predicate) -> None:
        end = time.monotonic() + DEADLINE_S
        while not predicate():
            assert time.monotonic() < end, f"gave up waiting: {self.uploader.snapshot()}"
            time.sleep(0.05)

    def drained(self) -> None:
        self.wait(lambda: (s := upload_status())["backlog"] == 0 and s["images_backlog"] == 0)


def _exactly_once(db_path, uids):
    got = server_uids(db_path)
    assert len(got) == len(set(got))
    assert sorted(got) == sorted(uids)
    assert Read.select().where(Read.upload_state != "done").count() == 0


def test_server_down_then_back(region, car_db):
    tmp, folder, start = region
    server = start()
    server.stop()  # the port is known, nothing listens: the server is down
    data, config = make_car(tmp, folder, server.url, batch_size=10)
    car_db(data)
    uids = add_reads(35)
    with Running(config, data) as run:
        run.wait(lambda: run.uploader.snapshot()["failures"] >= 3)
        assert upload_status()["backlog"] == 35
        server.start()
        run.drained()
    _exactly_once(tmp / "regional.db", uids)
    assert upload_status()["last_success_at"] is not None


def test_http_500_after_the_commit_is_resent_without_duplicates(region, car_db):
    tmp, folder, start = region
    server = start(error_count=3, error_rate=0.2)
    data, config = make_car(tmp, folder, server.url, batch_size=8)
    car_db(data)
    uids = add_reads(50)
    with Running(config, data) as run:
        run.drained()
        assert run.uploader.snapshot()["failures"] >= 3
    _exactly_once(tmp / "regional.db", uids)


def test_timeouts_are_retried(region, car_db):
    tmp, folder, start = region
    server = start(delay_s=2.5, delay_count=2)
    data, config = make_car(tmp, folder, server.url, batch_size=10, timeout_s=1.0)
    car_db(data)
    uids = add_reads(30)
    with Running(config, data) as run:
        run.drained()
        assert "timed out" in run.uploader.snapshot()["last_error"].lower() or \
            run.uploader.snapshot()["failures"] >= 2
    _exactly_once(tmp / "regional.db", uids)


def test_connections_reset_in_the_middle_of_batches(region, car_db):
    tmp, folder, start = region
    server = start()
    link = LinkSim(server.port, bandwidth_bps=20_000_000, rtt_s=0.01, reset_rate=0.3,
                   reset_window=3000, seed=7).start()
    try:
        data, config = make_car(tmp, folder, link.url, batch_size=25)
        car_db(data)
        uids = add_reads(120) + add_reads(8, images=True, start=120)
        with Running(config, data) as run:
            run.drained()
        assert link.stats["resets"] > 0
    finally:
        link.stop()
    _exactly_once(tmp / "regional.db", uids)
    assert len(server_images(tmp / "regional.db")) == 16


def test_slow_link_sends_data_first_then_images(region, car_db):
    tmp, folder, start = region
    server = start()
    link = LinkSim(server.port, bandwidth_bps=400_000, rtt_s=0.1, seed=3).start()
    try:
        data, config = make_car(tmp, folder, link.url, batch_size=5)
        db = car_db(data)
        uids = add_reads(12, images=True)
        with Running(config, data) as run:
            run.drained()
    finally:
        link.stop()
    _exactly_once(tmp / "regional.db", uids)
    images = server_images(tmp / "regional.db")
    expected = {(r.uid, "crop"): r.crop_sha256 for r in Read.select()}
    expected.update({(r.uid, "context"): r.context_sha256 for r in Read.select()})
    assert images == expected
    import sqlite3

    con = sqlite3.connect(tmp / "regional.db")
    last_data = con.execute("SELECT MAX(received_at) FROM regional_read").fetchone()[0]
    first_image = con.execute("SELECT MIN(received_at) FROM regional_image").fetchone()[0]
    con.close()
    assert first_image >= last_data  # the whole backlog's data went before any image
    assert all(r.images_uploaded_at for r in Read.select())
    assert db is not None


def test_gateway_killed_mid_upload_resumes_exactly_once(region, car_db):
    tmp, folder, start = region
    server = start()
    link = LinkSim(server.port, bandwidth_bps=100_000, rtt_s=0.05, seed=5).start()
    try:
        data, config = make_car(tmp, folder, link.url, batch_size=20, connections=2)
        db = car_db(data)
        uids = add_reads(300)
        db.close()
        cmd = [sys.executable, "-m", "tools.cli.main", "--data", str(data.root), "upload", "run"]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        first = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        end = time.monotonic() + DEADLINE_S
        while len(server_uids(tmp / "regional.db")) < 40:
            assert time.monotonic() < end and first.poll() is None
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        at_kill = len(server_uids(tmp / "regional.db"))
        assert at_kill < 300  # it really was killed in the middle
        link.up.rate = link.down.rate = 2_000_000
        second = subprocess.run([*cmd, "--until-drained", "--json"], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=DEADLINE_S)
        assert second.returncode == 0, second.stderr
    finally:
        link.stop()
    car_db(data)
    _exactly_once(tmp / "regional.db", uids)


def test_revoked_car_is_refused_and_keeps_its_reads(region, car_db):
    from tools.regional import pki

    tmp, folder, start = region
    server = start()
    data, config = make_car(tmp, folder, server.url, terminal="car-lost")
    car_db(data)
    add_reads(5)
    pki.revoke_car(folder, "car-lost")
    with Running(config, data) as run:
        run.wait(lambda: run.uploader.snapshot()["failures"] >= 2)
        assert "revoked" in run.uploader.snapshot()["last_error"]
    assert server_uids(tmp / "regional.db") == []
    assert upload_status()["backlog"] == 5
    # `alpr upload status` runs in another process: it reads the reason from the database.
    assert "403" in upload_status()["last_error"] and upload_status()["last_error_at"]


def test_a_server_that_fails_the_pin_gets_nothing(region, car_db):
    from tools.regional.pki import cert_sha256

    tmp, folder, start = region
    server = start()
    data, config = make_car(tmp, folder, server.url,
                            server_pin_sha256=cert_sha256(folder / "ca.pem"))
    car_db(data)
    add_reads(5)
    with Running(config, data) as run:
        run.wait(lambda: run.uploader.snapshot()["failures"] >= 2)
        assert "fingerprint" in run.uploader.snapshot()["last_error"].lower()
    assert server_uids(tmp / "regional.db") == []


def test_plaintext_is_refused(region):
    tmp, folder, start = region
    data, config = make_car(tmp, folder, "https://127.0.0.1:1")
    config.upload.server_url = "http://127.0.0.1:8444"
    with pytest.raises(TransportConfigError, match="plaintext"):
        make_session(config.upload, data.root)


def test_a_batch_too_large_for_the_link_is_split_until_it_fits(region, car_db):
    # Each read adds 0.1 s to the answer, as a slow link would: a batch of 20 cannot
    # be answered within the 1 s timeout, one of 5 can. Resending the whole batch
    # after every timeout never delivered a read.
    tmp, folder, start = region
    server = start(delay_per_read_s=0.1)
    data, config = make_car(tmp, folder, server.url, batch_size=20, connections=1,
                            timeout_s=1.0, retry_base_s=0.01, retry_max_s=0.1)
    car_db(data)
    uids = add_reads(40)
    with Running(config, data) as run:
        end = time.monotonic() + 25
        while upload_status()["backlog"]:
            assert time.monotonic() < end, f"the backlog did not drain: {run.uploader.snapshot()}"
            time.sleep(0.05)
        assert run.uploader.batch_limit() < 10
    _exactly_once(tmp / "regional.db", uids)


def test_a_read_revised_after_its_upload_reaches_the_server_and_one_revised_in_flight_goes_again(
        region, car_db):
    """A later burst of the pass reads the plate better (storing.ReadWriter.update): the
    server had kept the first version and refused the new images, and the car marked the read
    done all the same. A revision made while the old data was on the way must go again too."""
    import sqlite3

    from gateway.store.images import ImageStore

    tmp, folder, start = region
    server = start()
    data, config = make_car(tmp, folder, server.url)
    car_db(data)
    uids = add_reads(3, images=True)
    images = ImageStore(data.images)
    better = images.put(b"\xff\xd8better-crop" * 20)
    with Running(config, data) as run:
        run.drained()
        # as ReadWriter.update revises a stored read
        Read.update(plate="7ABC128", crop_sha256=better, upload_state="pending", uploaded_at=None,
                    images_uploaded_at=None, revision=Read.revision + 1).where(Read.uid == uids[0]).execute()
        run.drained()
    # a revision while the data of the one before was on the way: not marked sent with it
    Read.update(upload_state="pending").where(Read.uid == uids[1]).execute()
    row = Read.select(Read.id, Read.crop_sha256, Read.context_sha256, Read.revision).where(
        Read.uid == uids[1]).dicts().get()
    Read.update(revision=Read.revision + 1).where(Read.id == row["id"]).execute()
    run.uploader._mark_data_sent([row])
    assert Read.get_by_id(row["id"]).upload_state == "pending"
    with Running(config, data) as run:
        run.drained()
    _exactly_once(tmp / "regional.db", uids)
    with sqlite3.connect(tmp / "regional.db") as db:
        assert db.execute("SELECT plate FROM regional_read WHERE uid = ?", (uids[0],)).fetchone() == ("7ABC128",)
    assert server_images(tmp / "regional.db")[(uids[0], "crop")] == better
    assert Read.get(Read.uid == uids[1]).revision == 1
