"""Hotlists: view the lists, add a "new wanted" (partial plates allowed) and see
at once which stored reads it matches (policy 462.3(c))."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, render_template, request

from gateway.hotlist.wanted import WantedError, add_wanted
from gateway.store import audit
from gateway.store.models import HotlistEntry, HotlistList
from gateway.web.session import current_user, requires, set_search_context
from gateway.web.url_numbers import page_number

bp = Blueprint("hotlists", __name__, template_folder="templates")

PAGE = 100


@bp.route("/hotlists")
@requires("hotlists")
def index():
    lists = list(HotlistList.select().order_by(HotlistList.priority, HotlistList.name))
    return render_template("hotlists/index.html", lists=lists)


@bp.route("/hotlists/<int:list_id>")
@requires("hotlists")
def entries(list_id: int):
    hotlist = HotlistList.get_or_none(HotlistList.id == list_id)
    if hotlist is None:
        abort(404)
    page = page_number(request.args)
    plate = request.args.get("plate", "").strip().upper()[:16]
    user = current_user()
    # The plates on a CLETS list (and the filter, a plate query against it) are CLETS data:
    # a user without CLETS sees neither, only the list's size (policy 462.3(e)).
    restricted = hotlist.from_clets and not user.clets_authorized
    query = HotlistEntry.select().where(HotlistEntry.hotlist == hotlist)
    if not user.clets_authorized:
        query = query.where(HotlistEntry.from_clets == False)  # noqa: E712 - peewee expression
    if plate:
        query = query.where(HotlistEntry.plate.contains(plate))
    rows = [] if restricted else list(query.order_by(HotlistEntry.plate).paginate(page, PAGE))
    audit.record("hotlist.view", username=user.username, query=f"list {hotlist.name}"
                 + (f" plate~{plate}" if plate else ""), detail=f"page {page}, {len(rows)} entries",
                 outcome="restricted: not CLETS-authorised" if restricted else "ok")
    return render_template("hotlists/entries.html", hotlist=hotlist, rows=rows, page=page,
                           plate=plate, restricted=restricted, more=len(rows) == PAGE)


@bp.route("/hotlists/wanted", methods=["GET", "POST"])
@requires("wanted")
def wanted():
    form = request.form if request.method == "POST" else {}
    if request.method == "GET":
        return render_template("hotlists/wanted.html", form=form, default_days=7)
    try:
        days = int(form.get("days", "7"))
        if not 1 <= days <= 365:
            raise ValueError
    except ValueError:
        flash("Expiry: a number of days from 1 to 365.", "error")
        return render_template("hotlists/wanted.html", form=form, default_days=7), 400
    user = current_user()
    try:
        entry, found = add_wanted(
            form.get("plate", "")[:16], reason=form.get("reason", "")[:1000],
            case_number=form.get("case_number", "").strip()[:64],
            expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=days),
            username=user.username, state=form.get("state", "")[:32],
            description=form.get("description", "")[:1000],
        )
    except WantedError as exc:
        flash(str(exc), "error")
        return render_template("hotlists/wanted.html", form=form, default_days=days), 400
    # add_wanted recorded this check of stored reads under the entry's reason and case;
    # opening one of the matches carries the same purpose.
    set_search_context(entry.reason, entry.case_number, (read.id for read, _kind, _quality in found))
    return render_template("hotlists/wanted_added.html", entry=entry, found=found)
