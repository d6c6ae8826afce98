"""The officer's screens on a real store: live stream, alert workflow, search, hotlists,
devices and administration."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pyotp
import pytest
from _web_helpers import csrf, make_app, make_user, post, sign_in

from gateway.hotlist import match
from gateway.hotlist.wanted import add_wanted
from gateway.store.images import ImageStore
from gateway.store.models import AccessRecord, Alert, AlertEvent, HotlistEntry, HotlistList, User
from gateway.store.reads import NewRead, save_read


@pytest.fixture
def app(db, datadir):
    match.reset()
    return make_app(datadir, STREAM_MAX_S=1.5)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def images(datadir):
    return ImageStore(datadir.images)


def now():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def wanted(plate, **kw):
    return add_wanted(plate, reason=kw.pop("reason", "stolen"), case_number=kw.pop("case", "C-9"),
                      expires_at=now() + dt.timedelta(days=1), username="dispatch", **kw)[0]


def read(images, plate, **kw):
    return save_read(NewRead(plate=plate, confidence=0.9, seen_at=kw.pop("seen_at", now()),
                             board_id="sim-1", crop_jpeg=b"\xff\xd8crop" + plate.encode(), **kw), images)


def test_stream_pushes_read_and_alert_events(client, images):
    sign_in(client, make_user())
    wanted("7ABC123")
    response = client.get("/live/stream", buffered=False)
    assert response.mimetype == "text/event-stream"
    stored = read(images, "7ABC123")
    body = b"".join(response.response).decode()
    assert f'event: read\ndata: {{"id": {stored.id}, "html": ' in body
    alert = Alert.get(Alert.read == stored)
    assert f'"id": {alert.id}, "read_id": {stored.id}, "priority": 1, "html": ' in body
    assert "7ABC123" in body and f'data-alert-id=\\"{alert.id}\\"' in body
    assert AccessRecord.select().where(AccessRecord.action == "alert_shown").count() == 1


def test_a_repeat_hit_refreshes_the_open_alert_instead_of_a_new_alarm(client, images):
    sign_in(client, make_user())
    wanted("7ABC123")
    first = Alert.get(Alert.read == read(images, "7ABC123"))
    response = client.get("/live/stream", buffered=False)
    again = read(images, "7ABC123")
    body = b"".join(response.response).decode()
    repeat = Alert.get(Alert.read == again)
    assert (repeat.status, repeat.repeat_of_id) == ("repeat", first.id)
    event = next(block for block in body.split("\n\n") if "event: alert" in block)
    # the event carries the first alert's banner and item, now saying it was seen again
    assert f'"repeat_of": {first.id}' in event and f'data-alert-id=\\"{first.id}\\"' in event
    assert "seen again 1" in event
    shown = AccessRecord.get(AccessRecord.action == "alert_shown")
    assert f"seen again: alert {first.id}" in shown.query
    # the alert list shows the first alert with its sightings; the repeat on its own tab
    listed = client.get("/alerts").get_data(as_text=True)
    assert f'data-alert-id="{first.id}"' in listed and f'data-alert-id="{repeat.id}"' not in listed
    assert "seen again 1×" in listed
    assert f'data-alert-id="{repeat.id}"' in client.get("/alerts?status=repeat").get_data(as_text=True)
    # the first alert's page lists the sighting; the repeat's page points back, offers no steps
    assert 'id="sightings"' in client.get(f"/alerts/{first.id}").get_data(as_text=True)
    page = client.get(f"/alerts/{repeat.id}").get_data(as_text=True)
    assert 'id="repeat-of"' in page and 'id="verify-form"' not in page and 'id="acknowledge"' not in page


def test_stream_replays_what_was_missed_after_reconnect(client, images):
    sign_in(client, make_user())
    first = read(images, "1AAA111")
    second = read(images, "2BBB222")
    response = client.get("/live/stream", headers={"Last-Event-ID": f"{first.id}.0"})
    body = response.get_data(as_text=True)
    assert f'"id": {second.id}, ' in body and f'"id": {first.id}, ' not in body


def test_live_page_shows_the_disk_warning_until_it_is_cleared(client, images):
    # The store warns of a full disk by an event and a lasting Setting; the live screen showed
    # neither, so the officer learned nothing while reads could not be stored.
    from gateway.store import diskspace

    sign_in(client, make_user())
    assert 'id="disk-warning" role="alert" hidden' in client.get("/live").get_data(as_text=True)
    response = client.get("/live/stream", buffered=False)
    diskspace.warn("the car's disk is full: reads could not be stored")
    body = b"".join(response.response).decode()
    assert 'event: warning\ndata: {"source": "disk", "message": "the car' in body
    page = client.get("/live").get_data(as_text=True)
    assert 'id="disk-warning" role="alert">' in page and "reads could not be stored" in page
    diskspace.ensure_free(images, min_free_mb=1)
    assert 'id="disk-warning" role="alert" hidden' in client.get("/live").get_data(as_text=True)


def test_live_page_and_fragments_show_reads_and_images(client, images):
    sign_in(client, make_user())
    stored = read(images, "5QRS321")
    assert "5QRS321" in client.get("/live").get_data(as_text=True)
    assert "5QRS321" in client.get(f"/live/reads/{stored.id}").get_data(as_text=True)
    image = client.get(f"/images/{stored.crop_sha256}.jpg")
    assert image.status_code == 200 and image.data.startswith(b"\xff\xd8crop")
    assert client.get("/images/" + "0" * 64 + ".jpg").status_code == 404


def test_alert_workflow_enforcement_only_after_verification(client, images):
    user = make_user()
    sign_in(client, user)
    wanted("7ABC123")
    alert = Alert.get(Alert.read == read(images, "7ABC123"))
    banner = client.get(f"/alerts/{alert.id}/banner").get_data(as_text=True)
    assert "7ABC123" in banner and "prio-1" in banner
    # Enforcement first: refused by policy 462.3(f), nothing recorded as done.
    response = post(client, f"/alerts/{alert.id}/enforcement", {"taken": "yes"})
    assert response.status_code == 302
    page = client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert "462.3(f)" in page
    assert not AlertEvent.select().where(AlertEvent.step == "enforcement").exists()
    post(client, f"/alerts/{alert.id}/acknowledge")
    post(client, f"/alerts/{alert.id}/verify", {"outcome": "confirmed", "note": "CLETS ok"})
    post(client, f"/alerts/{alert.id}/enforcement", {"taken": "no"})
    steps = [(e.step, e.outcome, e.username) for e in
             AlertEvent.select().where(AlertEvent.alert == alert).order_by(AlertEvent.id)]
    assert steps == [("new", "", "system"), ("acknowledged", "", "officer1"),
                     ("verified", "confirmed", "officer1"), ("enforcement", "not_taken", "officer1")]
    # closed: the finished steps are shown as done, not offered again; a note can still be added
    page = client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert 'id="verify-form"' not in page and 'id="enforcement-form"' not in page
    assert 'id="verified-final"' in page and "no action" in page and 'id="note-form"' in page


def test_verification_needs_clets_authorisation(client, images):
    sign_in(client, make_user(clets=False))
    wanted("7ABC123")
    alert = Alert.get(Alert.read == read(images, "7ABC123"))
    post(client, f"/alerts/{alert.id}/verify", {"outcome": "confirmed"})
    assert Alert.get_by_id(alert.id).status == "new"
    assert "not authorised for CLETS" in client.get(f"/alerts/{alert.id}").get_data(as_text=True)


def test_clets_details_hidden_without_clets(client, images):
    entry = wanted("9CLT999", description="BLUE HONDA CIVIC")
    HotlistList.update(from_clets=True).where(HotlistList.id == entry.hotlist_id).execute()
    alert = Alert.get(Alert.read == read(images, "9CLT999"))
    sign_in(client, make_user("plain", clets=False))
    page = client.get(f"/alerts/{alert.id}").get_data(as_text=True)
    assert "BLUE HONDA" not in page and "clets-restricted" in page
    client2 = client.application.test_client()
    sign_in(client2, make_user("cleared", clets=True))
    assert "BLUE HONDA" in client2.get(f"/alerts/{alert.id}").get_data(as_text=True)


def test_covert_alerts_hidden_from_officers(client, images):
    entry = wanted("6COV666")
    HotlistList.update(covert=True).where(HotlistList.id == entry.hotlist_id).execute()
    match.refresh()
    alert = Alert.get(Alert.read == read(images, "6COV666"))
    assert alert.covert
    sign_in(client, make_user())
    assert client.get(f"/alerts/{alert.id}").status_code == 404
    client2 = client.application.test_client()
    sign_in(client2, make_user("sgt", role="supervisor"))
    assert client2.get(f"/alerts/{alert.id}").status_code == 200


def test_search_requires_purpose_and_case_and_is_recorded(client, images):
    sign_in(client, make_user())
    stored = read(images, "4SRC777")
    response = post(client, "/search", {"plate": "4SRC*"}, token_from="/search")
    assert response.status_code == 400 and "4SRC777" not in response.get_data(as_text=True)
    assert client.get(f"/search/reads/{stored.id}").status_code == 302  # no purpose yet
    response = post(client, "/search", {"plate": "4SRC*", "purpose": "burglary", "case_number": "24-7"},
                    token_from="/search")
    assert "4SRC777" in response.get_data(as_text=True)
    assert "4SRC777" in client.get(f"/search/reads/{stored.id}").get_data(as_text=True)
    rows = {(r.action, r.purpose, r.case_number) for r in AccessRecord.select()}
    assert ("search", "burglary", "24-7") in rows and ("read_viewed", "burglary", "24-7") in rows


def test_search_bad_input_explained(client):
    sign_in(client, make_user())
    response = post(client, "/search", {"purpose": "p", "case_number": "c", "area": "1,2,3"},
                    token_from="/search")
    assert response.status_code == 400 and "area" in response.get_data(as_text=True)


def test_new_wanted_partial_plate_shows_past_reads(client, images):
    sign_in(client, make_user())
    past = read(images, "8XYZ789", seen_at=now() - dt.timedelta(days=3))
    read(images, "1NOPE11")
    response = post(client, "/hotlists/wanted", {"plate": "8XY*", "reason": "shooting", "case_number": "24-9",
                                                 "days": "7"}, token_from="/hotlists/wanted")
    page = response.get_data(as_text=True)
    assert f'data-read-id="{past.id}"' in page and "1NOPE11" not in page
    assert "1 stored read match" in page
    lists = client.get("/hotlists").get_data(as_text=True)
    assert "wanted" in lists
    response = post(client, "/hotlists/wanted", {"plate": "8XY*", "reason": "", "case_number": "x",
                                                 "days": "7"}, token_from="/hotlists/wanted")
    assert response.status_code == 400
    # a state written out is refused by the entry's own rule, not cut to "NE"
    response = post(client, "/hotlists/wanted", {"plate": "8XY1", "reason": "shooting", "case_number": "24-9",
                                                 "days": "7", "state": "Nevada"}, token_from="/hotlists/wanted")
    assert response.status_code == 400 and "NE" not in {e.state for e in HotlistEntry.select()}


def test_devices_page_without_link_or_upload(client):
    sign_in(client, make_user("tech", role="technician"))
    page = client.get("/devices").get_data(as_text=True)
    assert "link is not running" in page and "Upload not running" in page and "MB of" in page
    assert 'id="upload-off"' in page and "Policy 462" in page
    assert "Recognition is not running" in page
    assert client.get("/devices/sim-1/frame.jpg").status_code == 404


def test_admin_creates_user_unlocks_and_reads_access_record(client):
    admin = make_user("boss", role="administrator")
    sign_in(client, admin)
    response = post(client, "/admin/users/new", {"username": "newbie", "password": "a long new password",
                                                 "role": "officer", "trained_until": "2030-01-01"},
                    token_from="/admin/users/new")
    assert "otpauth://totp/" in response.get_data(as_text=True)
    newbie = User.get(User.username == "newbie")
    User.update(locked=True).where(User.id == newbie.id).execute()
    post(client, f"/admin/users/{newbie.id}/unlock", token_from=f"/admin/users/{newbie.id}")
    assert not User.get_by_id(newbie.id).locked
    page = client.get("/admin/audit?action=account_unlocked&verify=1").get_data(as_text=True)
    assert re.search(r'data-action="account_unlocked"', page) and "Hash chain intact" in page
    assert AccessRecord.select().where(AccessRecord.action == "audit.viewed").exists()


def test_admin_disables_and_enables_a_user_whose_session_ends_at_once(app):
    admin, officer = make_user("boss", role="administrator"), make_user("amy")
    boss, amy = app.test_client(), app.test_client()
    sign_in(boss, admin)
    sign_in(amy, officer)
    assert amy.get("/live").status_code == 200
    page = f"/admin/users/{officer.id}"
    assert 'id="disable-user"' in boss.get(page).get_data(as_text=True)
    post(boss, f"{page}/disable", {"reason": ""}, token_from=page)
    assert not User.get_by_id(officer.id).disabled  # a reason is required
    post(boss, f"{page}/disable", {"reason": "suspended pending inquiry"}, token_from=page)
    assert User.get_by_id(officer.id).disabled
    assert amy.get("/live").status_code == 302  # the next request, not the next sign-in
    shown = boss.get(page).get_data(as_text=True)
    assert "suspended pending inquiry" in shown and 'id="enable-user"' in shown
    record = AccessRecord.get(AccessRecord.action == "account_disabled")
    assert (record.username, record.query) == ("boss", "amy") and "suspended" in record.detail
    post(boss, f"{page}/enable", token_from=page)
    assert not User.get_by_id(officer.id).disabled
    assert AccessRecord.select().where(AccessRecord.action == "account_enabled").exists()
    # nobody disables themselves out of the system
    own = f"/admin/users/{admin.id}"
    assert 'id="disable-user"' not in boss.get(own).get_data(as_text=True)
    post(boss, f"{own}/disable", {"reason": "oops"}, token_from=own)
    assert not User.get_by_id(admin.id).disabled


def test_admin_revokes_training_the_record_stays_and_access_ends_at_once(app):
    from gateway.store.models import TrainingRecord

    admin, officer = make_user("boss", role="administrator"), make_user("amy")
    boss, amy = app.test_client(), app.test_client()
    sign_in(boss, admin)
    sign_in(amy, officer)
    assert amy.get("/search").status_code == 200
    page = f"/admin/users/{officer.id}"
    post(boss, f"{page}/revoke-training", {"reason": "certificate forged"}, token_from=page)
    record = TrainingRecord.get(TrainingRecord.user == officer.id)
    assert record.revoked_by == "boss" and record.revoked_reason == "certificate forged"
    assert amy.get("/search").status_code == 302
    shown = boss.get(page).get_data(as_text=True)
    assert 'data-revoked="yes"' in shown and "certificate forged" in shown
    assert 'id="revoke-training"' not in shown  # nothing left to revoke
    assert AccessRecord.get(AccessRecord.action == "training_revoked").username == "boss"


def test_auditor_sees_only_the_access_record(client):
    sign_in(client, make_user("aud", role="auditor"))
    assert client.get("/admin/audit").status_code == 200
    for path in ("/live", "/search", "/hotlists", "/admin/users", "/alerts"):
        assert client.get(path).status_code == 403, path


def test_devices_page_with_the_real_link_manager_and_registered_board(db, datadir):
    import queue

    from gateway.config import LinkConfig
    from gateway.link.manager import LinkManager
    from gateway.store.models import Device

    Device.create(board_id="cam-7", board_type="openmv", name="front left", key_hex="00" * 32)
    link = LinkManager(LinkConfig(discover=False), queue.Queue(4))
    client = make_app(datadir, services={"link": link}).test_client()
    sign_in(client, make_user("tech", role="technician"))
    page = client.get("/devices").get_data(as_text=True)
    assert "cam-7" in page and "front left" in page and "not connected" in page
    assert "link is not running" not in page


def test_devices_page_shows_recognition_and_what_is_wrong_with_it(db, datadir, tmp_path, monkeypatch):
    """A broken second OCR file leaves the car reading, less well: the technician must see it."""
    import queue

    from gateway.config import Config
    from gateway.recognition import ocr_tflite
    from gateway.recognition.detector_tflite import TfliteDetector
    from gateway.recognition.recognizer import Recognizer
    from gateway.recognition.stage import RecognitionStage

    broken = tmp_path / "ocr_distant.tflite"
    broken.write_bytes(b"not a model")
    monkeypatch.setattr(ocr_tflite, "DEFAULT_DISTANT_MODEL", broken)
    stage = RecognitionStage(Config(), datadir, queue.Queue(),
                             recognizer=Recognizer(TfliteDetector(), ocr_tflite.TfliteOcr()))
    stage.stats.update(frames=12, processed=11, skipped=1)
    client = make_app(datadir, services={"recognition": stage}).test_client()
    sign_in(client, make_user("tech", role="technician"))
    page = client.get("/devices").get_data(as_text=True)
    section = page[page.index('id="recognition"'):page.index('id="upload"')]
    assert "starting" in section and "health-bad" in section
    assert "ocr_distant.tflite" in section and "until it is reinstalled" in section
    assert "detector.tflite" in section and "ocr.tflite" in section
    assert re.search(r"<dt>skipped</dt><dd>1</dd>", section)


def test_numbers_past_sqlite_and_bad_dates_are_not_server_errors(client):
    sign_in(client, make_user("boss", role="administrator"))
    huge = "99999999999999999999"
    for path in (f"/live/reads/{huge}", f"/alerts/{huge}", f"/admin/users/{huge}"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/admin/audit?page={huge}").status_code == 200
    page = client.get("/admin/audit?since=garbage").get_data(as_text=True)
    assert "must be a date" in page
    # a date and time with a space is a time: later than every record, so none is listed
    later = (now() + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    page = client.get("/admin/audit", query_string={"since": later}).get_data(as_text=True)
    assert 'data-action="' not in page.split("</form>", 1)[1]


def _old_read_and_a_full_live_window(images):
    old = read(images, "0OLD123", seen_at=now() - dt.timedelta(days=40),
               context_jpeg=b"\xff\xd8context-0OLD123")
    newer = [read(images, f"9NEW{i:03d}") for i in range(30)]
    return old, newer


def test_live_fragments_and_images_only_for_reads_in_the_live_window(client, images):
    sign_in(client, make_user())
    old, newer = _old_read_and_a_full_live_window(images)
    assert "0OLD123" not in client.get("/live").get_data(as_text=True)
    response = client.get(f"/live/reads/{old.id}")
    assert response.status_code == 404 and "0OLD123" not in response.get_data(as_text=True)
    for sha in (old.crop_sha256, old.context_sha256):
        assert client.get(f"/images/{sha}.jpg").status_code == 404
    # A made-up reconnect point replays only what the live view can show.
    body = client.get("/live/stream", headers={"Last-Event-ID": "0.0"}).get_data(as_text=True)
    assert "0OLD123" not in body and f'"id": {old.id}, ' not in body and "9NEW000" in body
    assert "9NEW029" in client.get(f"/live/reads/{newer[-1].id}").get_data(as_text=True)
    assert client.get(f"/images/{newer[0].crop_sha256}.jpg").status_code == 200


def test_old_read_and_its_images_through_a_search_with_purpose_recorded(client, images):
    sign_in(client, make_user())
    old, _ = _old_read_and_a_full_live_window(images)
    other = read(images, "1OTHER1", seen_at=now() - dt.timedelta(days=41))
    for _ in range(30):
        read(images, "9NEWER9")
    response = post(client, "/search", {"plate": "0OLD*", "purpose": "hit and run", "case_number": "24-11"},
                    token_from="/search")
    assert "0OLD123" in response.get_data(as_text=True)
    assert client.get(f"/images/{old.crop_sha256}.jpg").status_code == 200
    assert "0OLD123" in client.get(f"/search/reads/{old.id}").get_data(as_text=True)
    assert client.get(f"/images/{old.context_sha256}.jpg").status_code == 200
    viewed = [(r.query, r.purpose, r.case_number) for r in
              AccessRecord.select().where(AccessRecord.action == "image_viewed").order_by(AccessRecord.id)]
    assert viewed == [(f"read {old.id} 0OLD123 crop", "hit and run", "24-11"),
                      (f"read {old.id} 0OLD123 context image", "hit and run", "24-11")]
    # Not found by this search: neither the read nor its image, whatever its id.
    response = client.get(f"/search/reads/{other.id}", follow_redirects=True)
    assert "1OTHER1" not in response.get_data(as_text=True) and "not among your search" in response.get_data(as_text=True)
    assert client.get(f"/images/{other.crop_sha256}.jpg").status_code == 404
    assert client.get(f"/live/reads/{old.id}").status_code == 404  # the live view stays the live view


def _old_alerted_read(images, days: int):
    """A wanted plate's read `days` old (so an alert), pushed out of the live window by 30 newer reads."""
    wanted("7OLD777")
    hit = read(images, "7OLD777", seen_at=now() - dt.timedelta(days=days))
    for i in range(30):
        read(images, f"9NEW{i:03d}")
    return hit


def test_image_of_an_old_alert_shown_to_its_officer(client, images):
    hit = _old_alerted_read(images, days=2)
    sign_in(client, make_user())
    assert Alert.get(Alert.read == hit) is not None
    assert client.get(f"/images/{hit.crop_sha256}.jpg").status_code == 200
    sign_in(auditor := client.application.test_client(), make_user("aud", role="auditor"))
    assert auditor.get(f"/images/{hit.crop_sha256}.jpg").status_code == 403


def test_an_old_alerts_image_and_the_alerts_list_are_recorded(client, images):
    # Policy 462.5(b): an alert's read may be months old and outside the live window; seeing
    # it in the alerts list or opening its image is an access like a search's.
    hit = _old_alerted_read(images, days=200)
    sign_in(client, make_user())
    alert = Alert.get(Alert.read == hit)
    assert "7OLD777" in client.get("/alerts").get_data(as_text=True)
    listed = AccessRecord.get(AccessRecord.action == "alerts_listed")
    assert listed.username == "officer1" and f"ids {alert.id}" in listed.detail
    assert client.get(f"/images/{hit.crop_sha256}.jpg").status_code == 200
    viewed = AccessRecord.get(AccessRecord.action == "image_viewed")
    assert (viewed.username, viewed.query) == ("officer1", f"read {hit.id} 7OLD777 crop (alert {alert.id})")
    assert "7OLD777" in client.get(f"/alerts/{alert.id}/item").get_data(as_text=True)
    assert AccessRecord.select().where(AccessRecord.action == "alert_shown").count() == 1


def test_a_search_records_every_read_its_results_show(client, images):
    # Policy 462.5(b)/(e): the record says which reads a search showed, all of them (it kept
    # the first 200 of up to 500 shown).
    sign_in(client, make_user())
    stored = [read(images, f"5CAN{i:03d}") for i in range(205)]
    page = post(client, "/search", {"plate": "5CAN*", "purpose": "canvass", "case_number": "24-3"},
                token_from="/search").get_data(as_text=True)
    assert "5CAN000" in page and "5CAN204" in page
    search = AccessRecord.get(AccessRecord.action == "search")
    assert set(search.detail.removeprefix("read ids ").split(",")) == {str(r.id) for r in stored}
    wanted_page = post(client, "/hotlists/wanted", {"plate": "5CAN00?", "reason": "shooting",
                                                    "case_number": "24-9", "days": "7"},
                       token_from="/hotlists/wanted")
    assert wanted_page.status_code == 200
    checked = AccessRecord.get(AccessRecord.action == "reads.search")
    assert set(checked.detail.split("; ids ")[1].split(",")) == {str(r.id) for r in stored[:10]}


def test_a_clets_lists_plates_are_not_shown_or_searchable_without_clets(client, images, tmp_path):
    # Policy 462.3(e): the plates on a CLETS list are CLETS data; the page's plate filter was a
    # plate query against the stolen-vehicle list for an officer not authorised for CLETS.
    from _store_helpers import clew_file

    from gateway.hotlist.importer import import_file

    import_file(clew_file(tmp_path / "svs.tbl", [("4STL123", "CA"), ("5STL456", "CA")]), "clew", "svs",
                username="t")
    svs = HotlistList.get(HotlistList.name == "svs")
    mine = wanted("7OWN777")
    HotlistEntry.create(hotlist=mine.hotlist, plate="7FRM777", from_clets=True, list_code="wanted")
    sign_in(client, make_user("plain", clets=False))
    page = client.get(f"/hotlists/{svs.id}?plate=4STL").get_data(as_text=True)
    assert "4STL123" not in page and "5STL456" not in page and "clets-restricted" in page
    assert AccessRecord.get(AccessRecord.action == "hotlist.view").outcome.startswith("restricted")
    page = client.get(f"/hotlists/{mine.hotlist_id}").get_data(as_text=True)
    assert "7OWN777" in page and "7FRM777" not in page
    cleared = client.application.test_client()
    sign_in(cleared, make_user("cleared", clets=True))
    assert "4STL123" in cleared.get(f"/hotlists/{svs.id}?plate=4STL").get_data(as_text=True)
    assert "7FRM777" in cleared.get(f"/hotlists/{mine.hotlist_id}").get_data(as_text=True)


def test_devices_page_names_a_stage_the_supervisor_gave_up_on(db, datadir):
    """The link stage died over and over and was not restarted: no board is read for the rest of
    the shift, so the technician must see it, not only the log."""
    import queue

    from gateway.config import Config
    from gateway.recognition.stage import RecognitionStage
    from gateway.stages import Supervisor

    supervisor = Supervisor(threading.Event())
    supervisor.failed |= {"link", "recognition"}
    supervisor.last_error.update(link="cannot open /dev/ttyACM0", recognition="boom")
    stage = RecognitionStage(Config(), datadir, queue.Queue())
    stage.state = "running"  # it died in its loop, after it had started
    client = make_app(datadir, services={"link": object(), "recognition": stage,
                                         "supervisor": supervisor}).test_client()
    sign_in(client, make_user("tech", role="technician"))
    page = client.get("/devices").get_data(as_text=True)
    assert "The link stage kept failing" in page and "cannot open /dev/ttyACM0" in page
    assert "The recognition stage kept failing" in page
    assert "link is not running" in page
    section = page[page.index('id="recognition"'):page.index('id="upload"')]
    assert "failed" in section and "health-bad" in section


def test_audit_filter_to_a_date_takes_in_that_whole_day(client):
    # "To (UTC) 2026-12-01" on the access record means through that day, as `--until` does for
    # the command line: a record from today is listed with To = today, not only with To = tomorrow.
    sign_in(client, make_user("boss", role="administrator"))
    today = now().date().isoformat()
    page = client.get("/admin/audit", query_string={"action": "logon", "until": today}).get_data(as_text=True)
    assert 'data-action="logon"' in page.split("</form>", 1)[1]
    # a date and a time stays that minute: before it, nothing of today's sign-in
    start = f"{today} 00:00"
    page = client.get("/admin/audit", query_string={"action": "logon", "until": start}).get_data(as_text=True)
    assert 'data-action="logon"' not in page.split("</form>", 1)[1]


def test_error_pages_keep_the_screens_look_and_a_way_on(app):
    # A refused, missing or broken page is one of ours (nav, night mode, what to do next),
    # not the bare framework page that leaves the officer with no button to tap.
    @app.route("/boom")
    def boom():
        raise RuntimeError("broken")

    boom._alpr_permission = "reads"
    client = app.test_client()
    sign_in(client, make_user("amy"))
    forbidden = client.get("/admin/users")
    page = forbidden.get_data(as_text=True)
    assert forbidden.status_code == 403 and 'class="topbar"' in page and "js/theme.js" in page
    assert "not allowed" in page and 'href="/"' in page
    missing = client.get("/alerts/999999")
    assert missing.status_code == 404 and 'class="topbar"' in missing.get_data(as_text=True)
    assert "not found" in missing.get_data(as_text=True).lower()
    # checked before the session is looked at: no top bar, but the reason and the way back
    expired = client.post("/search", data={"csrf_token": "stale", "purpose": "p", "case_number": "c"})
    page = expired.get_data(as_text=True)
    assert expired.status_code == 400 and "This form has expired" in page and 'href="/" id="error-home"' in page
    # a page the browser fetches by itself gets the status without a page around it
    assert "topbar" not in client.get("/alerts/999999", headers={"X-Requested-With": "fetch"}).get_data(as_text=True)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    broken = client.get("/boom")
    assert broken.status_code == 500 and 'class="topbar"' in broken.get_data(as_text=True)
    assert "RuntimeError" not in broken.get_data(as_text=True)


def test_a_session_ended_mid_form_returns_to_that_form_after_signing_in(client):
    from _web_helpers import age_session

    amy = make_user("amy")
    sign_in(client, amy)
    token = csrf(client, "/search")
    age_session(client, idle_s=2 * 3600)  # the hour without use ran out while the officer typed
    response = client.post("/search", data={"csrf_token": token, "purpose": "robbery", "case_number": "24-1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    signed_in = sign_in(client, amy, code=pyotp.TOTP(amy.totp_secret).at(time.time() + 30))
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith("/search")
    # never to a page that has no form to show (a POST-only action)
    bob = make_user("bob")
    sign_in(client, bob)
    token = csrf(client, "/search")
    age_session(client, idle_s=2 * 3600)
    client.post(f"/admin/users/{amy.id}/disable", data={"csrf_token": token})
    assert sign_in(client, bob, code=pyotp.TOTP(bob.totp_secret).at(time.time() + 30)).headers["Location"] \
        .endswith("/live")
