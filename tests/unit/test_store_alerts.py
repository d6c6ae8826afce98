"""Alert history; CLETS verification before enforcement (policy 462.3(f))."""

from __future__ import annotations

import pytest
from _store_helpers import clew_file, gateway_writing, new_read

from gateway.hotlist.importer import import_file
from gateway.store import alerts
from gateway.store.images import ImageStore
from gateway.store.models import AccessRecord, Alert, User
from gateway.store.reads import save_read


@pytest.fixture
def alert(db, datadir, tmp_path):
    import_file(clew_file(tmp_path / "svs.tbl", [("ABC123", "CA")]), "clew", "svs", username="t")
    User.create(username="ofc1", password_hash="x", role="officer", clets_authorized=True)
    User.create(username="cadet", password_hash="x", role="officer", clets_authorized=False)
    save_read(new_read("ABC123"), ImageStore(datadir.images))
    return Alert.get()


def test_full_history_with_who_and_notes(alert):
    alerts.acknowledge(alert, "ofc1", "seen")
    alerts.verify(alert, "ofc1", "confirmed", "CLETS: stolen, 10-851")
    alerts.record_enforcement(alert, "ofc1", taken=True, note="stop made")
    steps = [(e.step, e.outcome, e.username, e.note) for e in alerts.history(alert)]
    assert steps == [("new", "", "system", steps[0][3]), ("acknowledged", "", "ofc1", "seen"),
                     ("verified", "confirmed", "ofc1", "CLETS: stolen, 10-851"),
                     ("enforcement", "taken", "ofc1", "stop made")]
    fresh = Alert.get_by_id(alert.id)
    assert (fresh.status, fresh.verified_outcome, fresh.enforcement) == (
        "enforcement", "confirmed", "taken")
    actions = [r.action for r in AccessRecord.select().order_by(AccessRecord.id)]
    assert actions[-3:] == ["alert.acknowledged", "alert.verified", "alert.enforcement"]


def test_enforcement_before_verification_is_refused_and_recorded(alert):
    alerts.acknowledge(alert, "ofc1")
    with pytest.raises(alerts.PolicyError, match="462.3"):
        alerts.record_enforcement(alert, "ofc1", taken=True, note="")
    assert Alert.get_by_id(alert.id).status == "acknowledged"
    refused = AccessRecord.select().where(AccessRecord.outcome == "refused")
    assert refused.count() == 1 and refused[0].action == "alert.enforcement"


def test_only_clets_authorised_users_verify(alert):
    with pytest.raises(alerts.PolicyError, match="not authorised for CLETS"):
        alerts.verify(alert, "cadet", "confirmed")
    with pytest.raises(alerts.AlertError, match="must be one of"):
        alerts.verify(alert, "ofc1", "probably")


def test_enforcement_after_a_misread_needs_other_grounds(alert):
    alerts.verify(alert, "ofc1", "misread")
    with pytest.raises(alerts.PolicyError, match="needs a note"):
        alerts.record_enforcement(alert, "ofc1", taken=True)
    alerts.record_enforcement(alert, "ofc1", taken=False)
    assert Alert.get_by_id(alert.id).enforcement == "not_taken"


def test_unknown_alert(db):
    with pytest.raises(alerts.AlertError, match="no alert with id 99"):
        alerts.acknowledge(99, "ofc1")


def test_a_closed_alert_keeps_its_verification_and_outcome(alert):
    alerts.verify(alert, "ofc1", "misread", "CLETS: no record")
    alerts.record_enforcement(alert, "ofc1", taken=False)
    with pytest.raises(alerts.PolicyError, match="is closed"):
        alerts.verify(alert, "ofc1", "confirmed")
    with pytest.raises(alerts.PolicyError, match="is closed"):
        alerts.record_enforcement(alert, "ofc1", taken=True, note="changed my mind")
    alerts.acknowledge(alert, "ofc1", "correction: plate was a look-alike")  # a note is still taken
    fresh = Alert.get_by_id(alert.id)
    assert (fresh.status, fresh.verified_outcome, fresh.enforcement) == ("enforcement", "misread", "not_taken")
    refused = [r.action for r in AccessRecord.select().where(AccessRecord.outcome == "refused")]
    assert refused == ["alert.verified", "alert.enforcement"]


@pytest.fixture
def window():
    """Sets the repeat window for one test and puts the default back."""
    yield alerts.configure
    alerts.configure(300)


def _hit_again(datadir):
    save_read(new_read("ABC123"), ImageStore(datadir.images))
    return Alert.select().order_by(Alert.id.desc()).first()


def test_a_second_hit_on_an_open_alert_is_a_sighting_of_it(alert, datadir, window):
    window(300)
    again = _hit_again(datadir)
    assert (again.status, again.repeat_of_id) == ("repeat", alert.id)
    count, latest = alerts.sightings(Alert.get_by_id(alert.id))
    assert (count, latest.id) == (1, again.id)
    assert "repeat of alert" in alerts.history(again)[0].note
    # the workflow stays on the first alert; the repeat says where to go
    with pytest.raises(alerts.AlertError, match=f"repeat sighting of alert {alert.id}"):
        alerts.acknowledge(again, "ofc1")
    with pytest.raises(alerts.AlertError, match=f"on alert {alert.id}"):
        alerts.verify(again, "ofc1", "confirmed")
    with pytest.raises(alerts.AlertError, match="repeat sighting"):
        alerts.record_enforcement(again, "ofc1", taken=False)
    # a third hit joins the same first alert, not the repeat
    third = _hit_again(datadir)
    assert third.repeat_of_id == alert.id and alerts.sightings(Alert.get_by_id(alert.id))[0] == 2


def test_a_hit_alerts_anew_when_the_alert_is_closed_old_or_the_window_off(alert, datadir, window):
    import datetime as dt

    alerts.verify(alert, "ofc1", "confirmed")
    alerts.record_enforcement(alert, "ofc1", taken=True)
    after_close = _hit_again(datadir)
    assert (after_close.status, after_close.repeat_of_id) == ("new", None)

    # last sighted longer ago than the window: a new alert
    for old in Alert.select():
        Alert.update(created_at=old.created_at - dt.timedelta(seconds=301)).where(Alert.id == old.id).execute()
    assert _hit_again(datadir).status == "new"

    window(0)
    assert _hit_again(datadir).status == "new"
    assert Alert.select().where(Alert.status == "repeat").count() == 0


def test_migration_0004_adds_repeat_of_to_a_car_installed_earlier(tmp_path):
    from gateway.store.db import open_database
    from gateway.store.migrations import current_version, m0004_alert_repeats

    path = tmp_path / "alpr.db"
    db = open_database(path)
    m0004_alert_repeats.down(db)  # back to the schema of a car installed before 0004
    db.execute_sql("PRAGMA user_version = 3")
    assert "repeat_of_id" not in {c.name for c in db.get_columns("alert")}
    db.close()

    db = open_database(path)
    assert current_version(db) >= 4
    assert "repeat_of_id" in {c.name for c in db.get_columns("alert")}
    assert "alert_repeat_of_id" in {i.name for i in db.get_indexes("alert")}
    m0004_alert_repeats.up(db)  # on a database that has it already: nothing changes
    db.close()


def test_alert_steps_wait_for_a_gateway_write_instead_of_failing(alert, datadir):
    # Each step read the alert and then asked for the write lock, which SQLite refuses at once
    # ("database is locked", no busy wait) while the gateway is storing a read.
    worker = gateway_writing(datadir.database, 0.5)
    alerts.acknowledge(alert, "ofc1", "seen")
    worker.join()
    worker = gateway_writing(datadir.database, 0.5)
    alerts.verify(alert, "ofc1", "confirmed")
    worker.join()
    worker = gateway_writing(datadir.database, 0.5)
    alerts.record_enforcement(alert, "ofc1", taken=False)
    worker.join()
    assert Alert.get_by_id(alert.id).status == "enforcement"
