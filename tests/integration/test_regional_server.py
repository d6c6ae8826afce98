"""The reference regional server's API, through Flask's test client with the
client certificate the TLS layer would hand it."""

import datetime as dt
import hashlib
import json

import pytest
from _upload_helpers import make_pki

from gateway.upload.codec import CONTENT_TYPE, encode_batch, row_from_read
from tools.regional import pki
from tools.regional.app import create_app
from tools.regional.hotlists import publish
from tools.regional.models import (
    RegionalAccess,
    RegionalHold,
    RegionalImage,
    RegionalRead,
    open_regional,
)
from tools.regional.retention import purge


@pytest.fixture
def region(tmp_path):
    folder = make_pki(tmp_path)
    db = open_regional(tmp_path / "regional.db")
    app = create_app(folder)
    yield folder, app
    db.close()


def _client(app, folder, terminal="car-1"):
    bundle = pki.issue_car(folder, terminal)
    client = app.test_client()
    client.environ_base["SSL_CLIENT_CERT"] = bundle.cert.read_text()
    return client


def _batch(uids, crop=""):
    rows = [row_from_read({"uid": u, "plate": "7ABC123", "confidence": 0.9, "candidates": [],
                           "seen_at": dt.datetime(2026, 11, 28, 8, 0, i), "crop_sha256": crop,
                           "frames": 1}) for i, u in enumerate(uids)]
    return encode_batch(rows)


def _post(client, body):
    return client.post("/api/v1/reads", data=body,
                       headers={"Content-Type": CONTENT_TYPE, "Content-Encoding": "gzip"})


def test_a_resent_batch_is_stored_once(region):
    folder, app = region
    client = _client(app, folder)
    uids = [f"{i:032x}" for i in range(10)]
    first = _post(client, _batch(uids))
    assert first.status_code == 200 and first.json == {"received": 10, "stored": 10, "updated": 0, "duplicates": 0}
    again = _post(client, _batch(uids[5:] + [f"{99:032x}"]))
    assert again.json == {"received": 6, "stored": 1, "updated": 0, "duplicates": 5}
    assert RegionalRead.select().count() == 11
    assert {r.terminal for r in RegionalRead.select()} == {"car-1"}
    assert RegionalAccess.select().where(RegionalAccess.action == "upload").count() == 2


def test_bad_batches_are_refused_with_a_reason(region):
    folder, app = region
    client = _client(app, folder)
    assert _post(client, b"garbage").status_code == 400
    wrong_type = client.post("/api/v1/reads", data=_batch(["a" * 32]),
                             headers={"Content-Type": "application/json"})
    assert wrong_type.status_code == 415
    assert RegionalRead.select().count() == 0


def test_images_after_data_and_checked_by_hash(region):
    folder, app = region
    client = _client(app, folder)
    jpeg = b"\xff\xd8 a crop"
    sha = hashlib.sha256(jpeg).hexdigest()
    early = client.put(f"/api/v1/reads/{'b' * 32}/images/crop", data=jpeg)
    assert early.status_code == 404  # data first
    _post(client, _batch(["b" * 32], crop=sha))
    assert client.put(f"/api/v1/reads/{'b' * 32}/images/crop", data=b"other").status_code == 409
    assert client.put(f"/api/v1/reads/{'b' * 32}/images/crop", data=jpeg).status_code == 201
    assert client.put(f"/api/v1/reads/{'b' * 32}/images/crop", data=jpeg).status_code == 200
    assert RegionalImage.select().count() == 1
    other_car = _client(app, folder, "car-2")
    assert other_car.put(f"/api/v1/reads/{'b' * 32}/images/crop", data=jpeg).status_code == 403


def test_a_read_the_car_revised_replaces_the_one_held_here(region):
    """A later burst of the same pass reads the plate better after the first upload; the
    server kept the first version and refused the new images as not matching it."""
    folder, app = region
    client = _client(app, folder)
    first, better = b"\xff\xd8 first crop", b"\xff\xd8 better crop"
    uid = "c" * 32
    _post(client, _batch([uid], crop=hashlib.sha256(first).hexdigest()))
    assert client.put(f"/api/v1/reads/{uid}/images/crop", data=first).status_code == 201
    revised = row_from_read({"uid": uid, "plate": "7ABC128", "confidence": 0.95, "candidates": [],
                             "seen_at": dt.datetime(2026, 11, 28, 8, 0, 0), "frames": 3,
                             "crop_sha256": hashlib.sha256(better).hexdigest()})
    answer = _post(client, encode_batch([revised]))
    assert answer.json == {"received": 1, "stored": 0, "updated": 1, "duplicates": 0}
    read = RegionalRead.get(RegionalRead.uid == uid)
    assert (read.plate, read.frames, read.crop_sha256) == ("7ABC128", 3, hashlib.sha256(better).hexdigest())
    assert RegionalImage.select().count() == 0  # the first crop is no longer the read's
    assert client.put(f"/api/v1/reads/{uid}/images/crop", data=better).status_code == 201
    # the same revision again is a duplicate; another car cannot revise this car's read
    assert _post(client, encode_batch([revised])).json["duplicates"] == 1
    other = dict(revised, plate="9ZZZ999")
    assert _post(_client(app, folder, "car-2"), encode_batch([other])).json["updated"] == 0
    assert RegionalRead.get(RegionalRead.uid == uid).plate == "7ABC128"
    uploads = RegionalAccess.select().where(RegionalAccess.action == "upload").order_by(RegionalAccess.id)
    assert "updated=1" in uploads[1].detail


def _refusals(action):
    return [a.detail for a in RegionalAccess.select().where(
        (RegionalAccess.action == action) & (RegionalAccess.outcome == "rejected"))]


def test_refusals_and_the_hotlist_index_reach_the_access_record(region):
    folder, app = region
    client = _client(app, folder)
    jpeg = b"\xff\xd8 a crop"
    sha = hashlib.sha256(jpeg).hexdigest()
    assert client.put(f"/api/v1/reads/{'b' * 32}/images/crop", data=jpeg).status_code == 404
    _post(client, _batch(["b" * 32], crop=sha))
    assert client.put(f"/api/v1/reads/{'b' * 32}/images/crop", data=b"other").status_code == 409
    assert client.post("/api/v1/reads", data=b"x",
                       headers={"Content-Type": "application/json"}).status_code == 415
    assert client.get("/api/v1/hotlists").status_code == 200
    images = _refusals("image")
    assert len(images) == 2 and "unknown read" in images[0] and "does not match" in images[1]
    assert "application/json" in _refusals("upload")[0]
    index = RegionalAccess.get(RegionalAccess.action == "hotlist-index")
    assert index.terminal == "car-1"


def test_revoked_car_is_refused_and_recorded(region):
    folder, app = region
    client = _client(app, folder, "car-9")
    assert client.get("/api/v1/health").json["terminal"] == "car-9"
    pki.revoke_car(folder, "car-9")
    refused = _post(client, _batch(["c" * 32]))
    assert refused.status_code == 403 and "revoked" in refused.json["error"]
    assert RegionalRead.select().count() == 0
    assert RegionalAccess.get(RegionalAccess.action == "refused").terminal == "car-9"


def test_no_certificate_no_service(region):
    _folder, app = region
    assert app.test_client().get("/api/v1/hotlists").status_code == 401


def test_hotlists_by_etag(region):
    folder, app = region
    client = _client(app, folder)
    publish("svs", [{"plate": "7ABC123", "state": "CA", "list": "svs", "description": "stolen"}])
    index = client.get("/api/v1/hotlists").json["lists"]
    assert [(h["name"], h["record_count"]) for h in index] == [("svs", 1)]
    got = client.get("/api/v1/hotlists/svs")
    assert got.status_code == 200
    assert hashlib.sha256(got.data).hexdigest() == index[0]["sha256"] == got.headers["ETag"].strip('"')
    assert got.headers["X-Record-Count"] == "1"
    same = client.get("/api/v1/hotlists/svs", headers={"If-None-Match": got.headers["ETag"]})
    assert same.status_code == 304 and same.data == b""
    publish("svs", [{"plate": "7ABC124"}])
    changed = client.get("/api/v1/hotlists/svs", headers={"If-None-Match": got.headers["ETag"]})
    assert changed.status_code == 200 and json.loads(changed.data) == [{"plate": "7ABC124"}]
    assert client.get("/api/v1/hotlists/none").status_code == 404


def test_retention_purges_on_day_366_unless_held(region):
    folder, app = region
    client = _client(app, folder)
    _post(client, _batch(["d" * 32, "e" * 32, "f" * 32]))
    seen = dt.datetime(2026, 11, 28, 8, 0, 0)
    RegionalRead.update(received_at=seen).execute()
    held = RegionalRead.get(RegionalRead.uid == "e" * 32)
    RegionalHold.create(read=held, case_number="24-001", placed_by="records")
    assert purge(now=seen + dt.timedelta(days=365) - dt.timedelta(seconds=1)) == 0
    assert purge(now=seen + dt.timedelta(days=365, seconds=1)) == 2
    assert [r.uid for r in RegionalRead.select()] == ["e" * 32]
    assert RegionalAccess.select().where(RegionalAccess.action == "purge").count() == 2


def test_retention_runs_on_the_servers_clock_not_the_cars(region):
    # A car whose clock says 2024 had its reads purged minutes after they arrived;
    # one whose clock says 2031 would have kept them past the year.
    folder, app = region
    client = _client(app, folder)
    rows = [row_from_read({"uid": u, "plate": "7ABC123", "confidence": 0.9, "candidates": [],
                           "seen_at": seen, "frames": 1})
            for u, seen in (("1" * 32, dt.datetime(2024, 6, 1)), ("2" * 32, dt.datetime(2031, 1, 1)))]
    assert _post(client, encode_batch(rows)).status_code == 200
    received = RegionalRead.get(RegionalRead.uid == "1" * 32).received_at
    assert purge() == 0
    assert RegionalRead.select().count() == 2
    assert purge(now=received + dt.timedelta(days=366)) == 2
    upload = RegionalAccess.get(RegionalAccess.action == "upload")
    assert "seen_at_ahead=1" in upload.detail


def test_openapi_document_describes_every_route(region):
    folder, app = region
    doc = _client(app, folder).get("/openapi.json").json
    assert doc["openapi"].startswith("3.")
    routes = {str(r.rule).replace("<", "{").replace(">", "}") for r in app.url_map.iter_rules()
              if not str(r.rule).startswith("/static")}
    assert routes <= set(doc["paths"])
