"""Searching stored reads: a purpose and a case number first (policy 462.3(a), 462.5(c)).

Every search and every result opened goes to the access record with that
purpose and case number. A search's purpose, case number and results are kept
with the session on the server: the reads it found, and their images, are the
only stored reads outside the live view that this session can open.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, request, url_for

from gateway.store import audit
from gateway.store.models import Alert, Read
from gateway.store.reads import ReadError, search_reads
from gateway.web.session import current_user, requires, search_context, set_search_context

bp = Blueprint("search", __name__, template_folder="templates")

MAX_RESULTS = 500


class FormError(ValueError):
    pass


def _local_time(value: str, name: str) -> dt.datetime | None:
    """A datetime-local field (the tablet's local time) as naive UTC."""
    if not value:
        return None
    try:
        local = dt.datetime.fromisoformat(value)
    except ValueError:
        raise FormError(f"{name}: not a date and time") from None
    return local.astimezone().astimezone(dt.UTC).replace(tzinfo=None)


def _area(value: str) -> tuple[float, float, float, float] | None:
    if not value.strip():
        return None
    try:
        numbers = [float(part) for part in value.replace(";", ",").split(",")]
    except ValueError:
        numbers = []
    if len(numbers) != 4:
        raise FormError("area: four numbers, south-west then north-east corner: lat,lon,lat,lon")
    lat1, lon1, lat2, lon2 = numbers
    return (min(lat1, lat2), min(lon1, lon2), max(lat1, lat2), max(lon1, lon2))


@bp.route("/search", methods=["GET", "POST"])
@requires("search")
def index():
    form = request.form if request.method == "POST" else {}
    results = None
    if request.method == "POST":
        purpose = form.get("purpose", "").strip()[:500]
        case_number = form.get("case_number", "").strip()[:64]
        if not purpose or not case_number:
            flash("State the purpose and the case or incident number before searching "
                  "(policy 462.3(a)).", "error")
            return render_template("search/index.html", form=form, results=None), 400
        try:
            criteria = {
                "pattern": form.get("plate", "").strip()[:16],
                "since": _local_time(form.get("since", ""), "from"),
                "until": _local_time(form.get("until", ""), "to"),
                "board": form.get("board", "").strip()[:64],
                "bbox": _area(form.get("area", "")),
            }
            results = search_reads(limit=MAX_RESULTS, **criteria)
        except (FormError, ReadError) as exc:
            flash(str(exc), "error")
            return render_template("search/index.html", form=form, results=None), 400
        described = " ".join(f"{k}={v}" for k, v in criteria.items() if v)
        audit.record(
            "search", username=current_user().username, query=described or "all reads",
            purpose=purpose, case_number=case_number, outcome=f"{len(results)} results",
            # every read the results page shows (up to MAX_RESULTS), so that who saw a read can
            # be answered from the record alone (policy 462.5(b), 462.5(e))
            detail="read ids " + ",".join(str(r.id) for r in results),
        )
        set_search_context(purpose, case_number, (r.id for r in results))
    return render_template("search/index.html", form=form, results=results)


@bp.route("/search/reads/<int:read_id>")
@requires("search")
def read(read_id: int):
    context = search_context()
    if not context:
        flash("Search first, with a purpose and a case number, to open a read.", "error")
        return redirect(url_for("search.index"))
    # Only a read the stated purpose found: the purpose on record must be the read's.
    found = Read.get_or_none(Read.id == read_id) if read_id in context.get("reads", ()) else None
    if found is None:
        flash("That read is not among your search's results. Search for it with a purpose "
              "and a case number to open it.", "error")
        return redirect(url_for("search.index"))
    audit.record("read_viewed", username=current_user().username, query=f"read {found.id} {found.plate}",
                 purpose=context["purpose"], case_number=context["case_number"])
    alerts = list(Alert.select().where((Alert.read == found) & (Alert.covert == False)))  # noqa: E712
    return render_template("search/read.html", read=found, alerts=alerts, context=context)
