"""What a signed-in user may see of an alert: covert lists, CLETS-sourced details."""

from __future__ import annotations

from flask import abort

from gateway.accounts.roles import can
from gateway.store.models import Alert, HotlistEntry, HotlistList, Read, User


def alerts_query(user: User):
    query = Alert.select(Alert, Read).join(Read)
    if not can(user.role, "covert"):
        query = query.where(Alert.covert == False)  # noqa: E712 - peewee expression
    return query


def alert_or_404(user: User, alert_id: int) -> Alert:
    alert = alerts_query(user).where(Alert.id == alert_id).first()
    if alert is None:
        abort(404)
    return alert


def from_clets(alert: Alert) -> bool:
    entry = alert.entry if alert.entry_id else None
    if entry is not None and entry.from_clets:
        return True
    hotlist = HotlistList.get_or_none(HotlistList.name == alert.list_name)
    return bool(hotlist and hotlist.from_clets)


def entry_details(user: User, alert: Alert) -> dict:
    """The hit's details, or `restricted` for CLETS-sourced data and a user without CLETS."""
    entry: HotlistEntry | None = alert.entry if alert.entry_id else None
    restricted = from_clets(alert) and not user.clets_authorized
    if entry is None:
        return {"restricted": restricted, "present": False}
    if restricted:
        return {"restricted": True, "present": True}
    return {
        "restricted": False, "present": True, "description": entry.description,
        "reason": entry.reason, "case_number": entry.case_number, "state": entry.state,
        "list_code": entry.list_code, "extra": entry.extra or {}, "expires_at": entry.expires_at,
        "entered_by": entry.entered_by,
    }
