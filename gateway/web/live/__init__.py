"""The live view: reads as they come, alerts that cannot be missed, pushed by SSE.

The live view shows the newest RECENT_READS reads (the patrol's own feed) and
nothing older: a stored read outside that window is reached only through the
purpose-bound search (policy 462.5(c)), so the fragments, the stream's replay
and the images here refuse it as if it did not exist.
"""

from __future__ import annotations

import json
import time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    request,
    send_file,
    stream_with_context,
)
from peewee import fn

from gateway.accounts.roles import can
from gateway.events import bus
from gateway.store import audit, diskspace, websessions
from gateway.store.images import ImageStoreError
from gateway.store.models import Alert, Read
from gateway.web.context import ctx
from gateway.web.session import current_user, current_websession, passive, requires, search_context
from gateway.web.visibility import alerts_query, entry_details

bp = Blueprint("live", __name__, template_folder="templates")

RECENT_READS = 30
OPEN_STATUSES = ("new", "acknowledged")
SESSION_CHECK_S = 5.0  # how soon an open stream notices its session ended or locked


def _in_window():
    """Reads the live view can show: from the RECENT_READS-th newest on. One condition (a
    subquery), so that a check is one query, not a query for the floor and another for the read."""
    floor = Read.select(Read.id).order_by(Read.id.desc()).offset(RECENT_READS - 1).limit(1)
    return Read.id >= fn.COALESCE(floor, 0)


def _live_read(read_id) -> Read | None:
    """The read if the live view can show it; None for one unknown or older."""
    if not isinstance(read_id, int):
        return None
    return Read.select().where((Read.id == read_id) & _in_window()).first()


def _open_alerts(user):
    return list(alerts_query(user).where(Alert.status.in_(OPEN_STATUSES))
                .order_by(Alert.priority, Alert.id.desc()).limit(20))


@bp.route("/live")
@requires("reads")
def index():
    user = current_user()
    reads = list(Read.select().order_by(Read.id.desc()).limit(RECENT_READS))
    audit.record("live_view", username=user.username, detail=f"{len(reads)} recent reads shown")
    alerts = _open_alerts(user) if can(user.role, "alerts") else []
    return render_template("live/index.html", reads=reads, alerts=alerts,
                           hit_reads={a.read_id for a in alerts},
                           disk_warning=diskspace.current_warning(),
                           details=entry_details(user, alerts[0]) if alerts else None)


@bp.route("/live/reads/<int:read_id>")
@requires("reads")
@passive
def read_fragment(read_id: int):
    read = _live_read(read_id)
    if read is None:
        abort(404)
    return render_template("live/_read.html", read=read, hit=False)


@bp.route("/live/stream")
@requires("reads")
@passive
def stream():
    """Server-sent events: `read` and `alert`, each with its server-rendered fragment
    (saving the browser a request per event: the alert shows sooner).

    A stream lasts STREAM_MAX_S and then ends; the browser reconnects at once
    and the session is checked again, so an expired training stops the stream
    within that time. A sign-out or a lock stops it within SESSION_CHECK_S.
    """
    user = current_user()
    see_alerts = can(user.role, "alerts")
    see_covert = can(user.role, "covert")
    stop = ctx().stop
    max_s = current_app.config["STREAM_MAX_S"]
    websession_id = current_websession().id
    sub = bus.subscribe(maxsize=512)

    last_read, last_alert = _parse_last_event_id(request.headers.get("Last-Event-ID", ""))

    def missed():
        # After a reconnect, what was stored while the browser was away (store is the truth).
        if last_read is None:
            return
        # Only what is still in the live window, whatever id the browser sends.
        newer = (Read.id > last_read) & _in_window()
        for read in Read.select(Read.id).where(newer).order_by(Read.id).limit(RECENT_READS):
            yield "read", {"id": read.id}
        if see_alerts:
            query = alerts_query(user).where(Alert.id > last_alert).order_by(Alert.id).limit(20)
            for alert in query:
                yield "alert", {"id": alert.id, "read_id": alert.read_id, "priority": alert.priority}

    def live():
        deadline = time.monotonic() + max_s
        last_sent = time.monotonic()
        check_at = time.monotonic() + SESSION_CHECK_S
        while not stop.is_set() and time.monotonic() < deadline:
            if time.monotonic() >= check_at:
                # Signed out or locked (perhaps from another copy of the cookie): the
                # browser's reconnect then meets the door.
                if not websessions.is_open(websession_id):
                    return
                check_at = time.monotonic() + SESSION_CHECK_S
            # Short waits so that a gateway shutdown ends the stream promptly.
            event = sub.get(timeout=1.0)
            if event is None:
                if time.monotonic() - last_sent > 15:
                    last_sent = time.monotonic()
                    yield None, None
                continue
            last_sent = time.monotonic()
            if event.kind == "read":
                yield "read", {"id": event.data.get("id")}
            elif event.kind == "alert" and see_alerts:
                if event.data.get("covert") and not see_covert:
                    continue
                yield "alert", {"id": event.data.get("id"), "read_id": event.data.get("read_id"),
                                "priority": event.data.get("priority")}
            elif event.kind in ("board", "warning"):
                yield event.kind, {k: v for k, v in event.data.items()
                                   if isinstance(v, str | int | float)}

    def events():
        seen = {"read": last_read or _max_id(Read), "alert": last_alert or _max_id(Alert)}
        try:
            # An id-only block sets the browser's Last-Event-ID for the reconnect.
            yield f"id: {seen['read']}.{seen['alert']}\nretry: 1000\n\n"
            for source in (missed(), live()):
                for kind, payload in source:
                    if kind is None:
                        yield ": keepalive\n\n"
                        continue
                    if kind in seen and isinstance(payload.get("id"), int):
                        seen[kind] = max(seen[kind], payload["id"])
                    shown = _render(kind, payload, user)
                    if shown is False:
                        continue
                    yield (f"id: {seen['read']}.{seen['alert']}\nevent: {kind}\n"
                           f"data: {json.dumps(payload)}\n\n")
                    if kind == "alert":
                        # Recorded once it is on its way to the screen, not before.
                        audit.record("alert_shown", username=user.username,
                                     query=f"alert {payload['id']} ({shown})")
        finally:
            sub.close()

    response = Response(stream_with_context(events()), mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _render(kind: str, payload: dict, user):
    """Add the fragment(s) to an event's payload. False: nothing to show (gone, or
    not for this user); for an alert, a short description for the access record."""
    if kind == "read":
        read = _live_read(payload["id"])
        if read is None:
            return False
        payload["html"] = render_template("live/_read.html", read=read, hit=False)
        return True
    if kind == "alert":
        alert = alerts_query(user).where(Alert.id == payload["id"]).first()
        if alert is None:
            return False
        shown = alert
        if alert.repeat_of_id:
            # A sighting of an open alert: the screen refreshes that alert, quietly.
            shown = alerts_query(user).where(Alert.id == alert.repeat_of_id).first()
            if shown is None:
                return False
            payload["repeat_of"] = shown.id
        payload["html"] = render_template("alerts/_banner.html", alert=shown,
                                          details=entry_details(user, shown))
        payload["item"] = render_template("alerts/_item.html", alert=shown)
        if shown is not alert:
            return f"{alert.list_name} {alert.entry_plate}, seen again: alert {shown.id}"
        return f"{alert.list_name} {alert.entry_plate}"
    return True


def _parse_last_event_id(value: str) -> tuple[int | None, int]:
    try:
        read_id, alert_id = value.split(".", 1)
        return int(read_id), int(alert_id)
    except ValueError:
        return None, 0


def _max_id(model) -> int:
    row = model.select(model.id).order_by(model.id.desc()).first()
    return row.id if row else 0


@bp.route("/images/<sha>.jpg")
@requires("reads")
@passive
def image(sha: str):
    """A read's crop or context image, for a read this session may see: one in the live
    window, one behind an alert this user may see (recorded with the alert), or one its latest
    search found (recorded with the search's purpose and case number). Anything else: 404."""
    try:
        path = ctx().images.path(sha)
    except ImageStoreError:
        abort(404)
    if not path.exists() or not _may_see_image(sha):  # a refusal and a gap look alike
        abort(404)
    try:
        return send_file(path, mimetype="image/jpeg", max_age=0)
    except ImageStoreError:
        abort(404)


def _may_see_image(sha: str) -> bool:
    # Each rule looks only among the reads it allows (an id range, the alerts, the search's
    # ids), never across every stored read: one image may belong to several reads.
    showing = (Read.crop_sha256 == sha) | (Read.context_sha256 == sha)
    if Read.select().where(showing & _in_window()).exists():
        return True
    user = current_user()
    if can(user.role, "alerts"):
        behind = alerts_query(user).where(showing).order_by(Alert.id.desc()).first()
        if behind is not None:
            # An alert's read may be a year old and outside the live window: recorded, as
            # opening it from a search is (policy 462.5(b)).
            read = behind.read
            kind = "crop" if read.crop_sha256 == sha else "context image"
            audit.record("image_viewed", username=user.username,
                         query=f"read {read.id} {read.plate} {kind} (alert {behind.id})")
            return True
    context = search_context()
    found = context.get("reads") if context else None
    read = Read.select().where(showing & Read.id.in_(found)).first() if found else None
    if read is None:
        return False
    kind = "crop" if read.crop_sha256 == sha else "context image"
    audit.record("image_viewed", username=user.username, query=f"read {read.id} {read.plate} {kind}",
                 purpose=context["purpose"], case_number=context["case_number"])
    return True
