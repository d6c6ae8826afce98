"""The alert workflow: acknowledge, CLETS verification, then enforcement outcome."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from peewee import fn

from gateway.store import alerts as alert_store
from gateway.store import audit
from gateway.store.alerts import AlertError, PolicyError
from gateway.store.models import Alert
from gateway.web.session import current_user, passive, requires
from gateway.web.visibility import alert_or_404, alerts_query, entry_details, from_clets

bp = Blueprint("alerts", __name__, template_folder="templates")

STATUSES = ("new", "acknowledged", "verified", "enforcement", "repeat")
OUTCOME_LABELS = {"confirmed": "Confirmed", "not_confirmed": "Not confirmed", "misread": "Misread"}


@bp.route("/alerts")
@requires("alerts")
def index():
    status = request.args.get("status", "")
    query = alerts_query(current_user())
    if status in STATUSES:
        query = query.where(Alert.status == status)
    else:
        # Repeat hits are shown on the alert they repeat, not as alerts of their own.
        query = query.where(Alert.status != "repeat")
    alerts = list(query.order_by(Alert.id.desc()).limit(200))
    # Repeat hits per listed alert, in one query (not a count per row).
    repeated = Alert.repeat_of_id
    seen = dict(Alert.select(repeated, fn.COUNT(Alert.id))
                .where(repeated.in_([a.id for a in alerts])).group_by(repeated).tuples()) if alerts else {}
    # The list shows stored reads' plates, hit lists and times, up to a year old: an access
    # like any other (policy 462.5(b)), recorded with the alert ids shown.
    audit.record("alerts_listed", username=current_user().username, query=f"status={status or 'all'}",
                 detail=f"{len(alerts)} alerts shown: ids " + ",".join(str(a.id) for a in alerts))
    return render_template("alerts/index.html", alerts=alerts, status=status, statuses=STATUSES, seen=seen)


def _context(alert):
    user = current_user()
    repeats = list(alerts_query(user).where(Alert.repeat_of_id == alert.id).order_by(Alert.id.desc()).limit(200))
    return {"alert": alert, "details": entry_details(user, alert), "clets": from_clets(alert),
            "history": alert_store.history(alert), "outcomes": OUTCOME_LABELS, "repeats": repeats}


@bp.route("/alerts/<int:alert_id>")
@requires("alerts")
def detail(alert_id: int):
    alert = alert_or_404(current_user(), alert_id)
    audit.record("alert_viewed", username=current_user().username,
                 query=f"alert {alert.id} ({alert.list_name} {alert.entry_plate})")
    return render_template("alerts/detail.html", **_context(alert))


@bp.route("/alerts/<int:alert_id>/banner")
@requires("alerts")
@passive
def banner(alert_id: int):
    alert = alert_or_404(current_user(), alert_id)
    audit.record("alert_shown", username=current_user().username,
                 query=f"alert {alert.id} ({alert.list_name} {alert.entry_plate})")
    return render_template("alerts/_banner.html", **_context(alert))


@bp.route("/alerts/<int:alert_id>/item")
@requires("alerts")
@passive
def item(alert_id: int):
    alert = alert_or_404(current_user(), alert_id)
    audit.record("alert_shown", username=current_user().username,
                 query=f"alert {alert.id} ({alert.list_name} {alert.entry_plate})")
    return render_template("alerts/_item.html", alert=alert)


def _step(alert_id: int, action):
    user = current_user()
    alert = alert_or_404(user, alert_id)
    try:
        action(alert, user)
    except (PolicyError, AlertError) as exc:
        flash(str(exc), "error")
    return redirect(url_for("alerts.detail", alert_id=alert.id))


@bp.route("/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@requires("alerts")
def acknowledge(alert_id: int):
    return _step(alert_id, lambda alert, user: alert_store.acknowledge(
        alert, user.username, request.form.get("note", "")[:2000]))


@bp.route("/alerts/<int:alert_id>/verify", methods=["POST"])
@requires("alerts")
def verify(alert_id: int):
    return _step(alert_id, lambda alert, user: alert_store.verify(
        alert, user.username, request.form.get("outcome", ""), request.form.get("note", "")[:2000]))


@bp.route("/alerts/<int:alert_id>/enforcement", methods=["POST"])
@requires("alerts")
def enforcement(alert_id: int):
    taken = request.form.get("taken", "")
    if taken not in ("yes", "no"):
        flash("Choose whether enforcement action was taken.", "error")
        return redirect(url_for("alerts.detail", alert_id=alert_id))
    return _step(alert_id, lambda alert, user: alert_store.record_enforcement(
        alert, user.username, taken == "yes", request.form.get("note", "")[:2000]))
