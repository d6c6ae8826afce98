"""An alert's life: new, acknowledged, verified through CLETS, enforcement.

Every step is an AlertEvent (who, when, outcome, note) and an access record.
Policy 462.3(f): enforcement cannot be recorded before a CLETS verification,
and only a CLETS-authorised user (462.3(e)) may record that verification.
Once enforcement is recorded the alert is closed: neither the verification it
rested on nor the outcome can be recorded again (a note, through `acknowledge`,
can still be added to the record; nothing in it is replaced).
"""

from __future__ import annotations

import logging

from gateway.errors import AlprError
from gateway.store import audit
from gateway.store.models import Alert, AlertEvent, User, database, utcnow

logger = logging.getLogger(__name__)

VERIFY_OUTCOMES = ("confirmed", "not_confirmed", "misread")


class AlertError(AlprError):
    """The alert does not exist or the step makes no sense for it."""


class PolicyError(AlprError):
    """The step is refused by policy 462 (e.g. enforcement before CLETS verification)."""


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


def acknowledge(alert: Alert | int, username: str, note: str = "") -> AlertEvent:
    """The officer has seen the alert."""
    with database.atomic():
        alert = _alert(alert)
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
    _refuse_if_closed(_alert(alert), username, "verified")
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
