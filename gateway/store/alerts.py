"""An alert's life: new, acknowledged, verified through CLETS, enforcement.

Every step is an AlertEvent (who, when, outcome, note) and an access record.
Policy 462.3(f): enforcement cannot be recorded before a CLETS verification,
and only a CLETS-authorised user (462.3(e)) may record that verification.
Once enforcement is recorded the alert is closed: neither the verification it
rested on nor the outcome can be recorded again (a note, through `acknowledge`,
can still be added to the record; nothing in it is replaced).
"""

from __future__ import annotations

import datetime as dt
import logging

from peewee import fn

from gateway.errors import AlprError
from gateway.store import audit
from gateway.store.models import Alert, AlertEvent, User, database, utcnow

logger = logging.getLogger(__name__)

VERIFY_OUTCOMES = ("confirmed", "not_confirmed", "misread")
REPEAT = "repeat"

# Set from config.alerts.repeat_window_s when the store opens (gateway/store/setup.py).
_repeat_window = dt.timedelta(seconds=300)


def configure(repeat_window_s: int) -> None:
    global _repeat_window
    _repeat_window = dt.timedelta(seconds=repeat_window_s)


class AlertError(AlprError):
    """The alert does not exist or the step makes no sense for it."""


class PolicyError(AlprError):
    """The step is refused by policy 462 (e.g. enforcement before CLETS verification)."""


def open_alert_to_repeat(list_name: str, entry_plate: str, now: dt.datetime) -> Alert | None:
    """The open alert a new hit on this entry repeats, if any; call inside the write.

    A patrol car following or passing a wanted car again reads it every few
    seconds; sounding each read as a new alert buries the first one (the one the
    officer verifies) under copies. Within the window of the entry's last
    sighting, and while its alert is not closed, a hit is a sighting of that
    alert. The entry is named by list and plate, not by row: a list replaced
    by a sync gets new rows for the same entries.
    """
    if _repeat_window <= dt.timedelta(0):
        return None
    last = (Alert.select(Alert.id, Alert.repeat_of_id)
            .where((Alert.list_name == list_name) & (Alert.entry_plate == entry_plate)
                   & (Alert.created_at >= now - _repeat_window))
            .order_by(Alert.id.desc()).first())
    if last is None:
        return None
    first = Alert.get_or_none(Alert.id == (last.repeat_of_id or last.id))
    if first is None or first.status in ("enforcement", REPEAT):
        return None
    return first


def sightings(alert: Alert) -> tuple[int, Alert | None]:
    """How many repeat hits an alert has had, and the latest of them."""
    query = Alert.select().where(Alert.repeat_of_id == alert.id)
    count = query.select(fn.COUNT(Alert.id)).scalar() or 0
    return count, (query.order_by(Alert.id.desc()).first() if count else None)


def _alert(alert: Alert | int) -> Alert:
    if isinstance(alert, Alert):
        return Alert.get_by_id(alert.id)
    found = Alert.get_or_none(Alert.id == alert)
    if found is None:
        raise AlertError(f"no alert with id {alert}")
    return found


def _step(alert: Alert, step: str, username: str, outcome: str, note: str) -> AlertEvent:
    if not username:
        raise AlertError("every alert step needs the user who took it")
    event = AlertEvent.create(alert=alert, step=step, outcome=outcome, username=username,
                              note=note, at=utcnow())
    audit.record(f"alert.{step}", username=username,
                 query=f"alert {alert.id} ({alert.list_name} {alert.entry_plate})",
                 outcome=outcome or "ok", detail=note)
    return event


def _refuse_if_repeat(alert: Alert) -> None:
    if alert.status == REPEAT:
        raise AlertError(f"alert {alert.id} is a repeat sighting of alert {alert.repeat_of_id}; "
                         f"acknowledge, verify and record the outcome on alert {alert.repeat_of_id}")


def acknowledge(alert: Alert | int, username: str, note: str = "") -> AlertEvent:
    """The officer has seen the alert."""
    with database.atomic():
        alert = _alert(alert)
        _refuse_if_repeat(alert)
        event = _step(alert, "acknowledged", username, "", note)
        if alert.status == "new":
            alert.status = "acknowledged"
            alert.save()
    return event


def _refuse_if_closed(alert: Alert, username: str, step: str) -> None:
    if alert.status != "enforcement":
        return
    done = (AlertEvent.select().where((AlertEvent.alert == alert) & (AlertEvent.step == "enforcement"))
            .order_by(AlertEvent.id.desc()).first())
    audit.record(f"alert.{step}", username=username, query=f"alert {alert.id}", outcome="refused",
                 detail="closed: enforcement already recorded")
    when = f" by {done.username} at {done.at:%Y-%m-%d %H:%M} UTC" if done is not None else ""
    raise PolicyError(f"alert {alert.id} is closed: enforcement ({alert.enforcement}) was recorded{when}; "
                      "the record cannot be changed, add a note to it instead")


def verify(alert: Alert | int, username: str, outcome: str, note: str = "") -> AlertEvent:
    """Record the CLETS verification: confirmed, not_confirmed or misread."""
    if outcome not in VERIFY_OUTCOMES:
        raise AlertError(f"verification outcome must be one of {', '.join(VERIFY_OUTCOMES)}, "
                         f"not {outcome!r}")
    user = User.get_or_none(User.username == username)
    if user is None or not user.clets_authorized:
        raise PolicyError(f"user {username!r} is not authorised for CLETS (policy 462.3(e)); "
                          "a CLETS-authorised officer must verify the alert")
    # refused outside the transaction, so that the refusal's own access record is kept
    current = _alert(alert)
    _refuse_if_repeat(current)
    _refuse_if_closed(current, username, "verified")
    with database.atomic():
        alert = _alert(alert)
        event = _step(alert, "verified", username, outcome, note)
        alert.status = "verified"
        alert.verified_outcome = outcome
        alert.save()
    return event


def record_enforcement(alert: Alert | int, username: str, taken: bool, note: str = "") -> AlertEvent:
    """Record whether enforcement action was taken; only after a CLETS verification, and once."""
    alert = _alert(alert)
    _refuse_if_repeat(alert)
    _refuse_if_closed(alert, username, "enforcement")
    verified = (AlertEvent.select().where((AlertEvent.alert == alert)
                                          & (AlertEvent.step == "verified"))
                .order_by(AlertEvent.id.desc()).first())
    if verified is None:
        # The refusal itself is an access event worth keeping.
        audit.record("alert.enforcement", username=username, query=f"alert {alert.id}",
                     outcome="refused", detail="not yet verified through CLETS")
        raise PolicyError(f"alert {alert.id} has not been verified through CLETS; record the "
                          "verification first (policy 462.3(f))")
    if taken and verified.outcome != "confirmed" and not note.strip():
        raise PolicyError(f"alert {alert.id} was verified as {verified.outcome}; enforcement "
                          "taken on it needs a note giving the other grounds")
    outcome = "taken" if taken else "not_taken"
    with database.atomic():
        event = _step(alert, "enforcement", username, outcome, note)
        alert.status = "enforcement"
        alert.enforcement = outcome
        alert.save()
    return event


def history(alert: Alert | int) -> list[AlertEvent]:
    alert = _alert(alert)
    return list(AlertEvent.select().where(AlertEvent.alert == alert).order_by(AlertEvent.id))
