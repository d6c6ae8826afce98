"""Alert history; CLETS verification before enforcement (policy 462.3(f))."""

from __future__ import annotations

import pytest
from _store_helpers import clew_file, new_read

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
