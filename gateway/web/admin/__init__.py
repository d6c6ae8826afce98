"""Administration: users, roles, training, unlocking, disabling; holds and exports; the access record."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from gateway.accounts import users as accounts
from gateway.accounts.errors import AccountError
from gateway.accounts.roles import ROLES
from gateway.store import audit
from gateway.store.models import AccessRecord, EvidenceHold, TrainingRecord, User
from gateway.web.context import ctx
from gateway.web.session import current_user, requires
from gateway.web.url_numbers import page_number

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

AUDIT_PAGE = 200


def _date(value: str, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise AccountError(f"{name}: a date as YYYY-MM-DD") from None


def _is_date_only(value: str) -> bool:
    try:
        dt.date.fromisoformat(value.strip())
    except ValueError:
        return False
    return True


@bp.route("/users")
@requires("admin")
def users():
    rows = []
    for user in User.select().order_by(User.username):
        training = accounts.current_training(user)
        rows.append({"user": user, "trained_until": training.expires_on if training else None})
    return render_template("admin/users.html", rows=rows, roles=ROLES)


@bp.route("/users/new", methods=["GET", "POST"])
@requires("admin")
def user_new():
    form = request.form if request.method == "POST" else {}
    if request.method == "GET":
        return render_template("admin/user_new.html", form=form, roles=ROLES)
    try:
        user = accounts.create_user(
            form.get("username", ""), form.get("password", "")[:256], form.get("role", ""),
            trained_until=_date(form.get("trained_until", ""), "trained until"),
            clets=form.get("clets") == "yes", full_name=form.get("full_name", "")[:128],
            by=current_user().username,
        )
    except AccountError as exc:
        flash(str(exc), "error")
        return render_template("admin/user_new.html", form=form, roles=ROLES), 400
    # The provisioning URI is shown once, to be entered in the user's authenticator app.
    return render_template("admin/user_created.html", user=user, uri=accounts.provisioning_uri(user))


def _user_or_404(user_id: int) -> User:
    user = User.get_or_none(User.id == user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>")
@requires("admin")
def user_detail(user_id: int):
    user = _user_or_404(user_id)
    training = list(TrainingRecord.select().where(TrainingRecord.user == user)
                    .order_by(TrainingRecord.expires_on.desc()))
    return render_template("admin/user_detail.html", user=user, training=training, roles=ROLES,
                           current=accounts.current_training(user), today=dt.date.today(),
                           admin_disabled=accounts.admin_disabled(user))


def _act(user_id: int, action, done: str):
    user = _user_or_404(user_id)
    try:
        result = action(user)
    except AccountError as exc:
        flash(str(exc), "error")
    else:
        flash(done if result is None else f"{done} {result}", "ok")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@bp.route("/users/<int:user_id>/training", methods=["POST"])
@requires("admin")
def user_training(user_id: int):
    def record(user):
        completed = _date(request.form.get("completed_on", ""), "completed on") or dt.date.today()
        expires = _date(request.form.get("expires_on", ""), "expires on")
        if expires is None:
            raise AccountError("give the date the training expires")
        accounts.record_training(user, completed_on=completed, expires_on=expires,
                                 course=request.form.get("course", "ALPR operator")[:128] or "ALPR operator",
                                 by=current_user().username)

    return _act(user_id, record, "Training recorded.")


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@requires("admin")
def user_role(user_id: int):
    def change(user):
        if user.id == current_user().id and request.form.get("role") != "administrator":
            raise AccountError("you cannot remove your own administrator role")
        accounts.set_role(user, request.form.get("role", ""), clets=request.form.get("clets") == "yes",
                          by=current_user().username)

    return _act(user_id, change, "Role saved.")


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@requires("admin")
def user_unlock(user_id: int):
    return _act(user_id, lambda user: accounts.unlock(user, by=current_user().username),
                "Account unlocked.")


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
@requires("admin")
def user_disable(user_id: int):
    # session.py re-reads the account on every request: the user's next request is refused.
    return _act(user_id, lambda user: accounts.disable(
        user, reason=request.form.get("reason", ""), by=current_user().username),
        "Account disabled.")


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
@requires("admin")
def user_enable(user_id: int):
    return _act(user_id, lambda user: accounts.enable(user, by=current_user().username),
                "Account enabled.")


@bp.route("/users/<int:user_id>/revoke-training", methods=["POST"])
@requires("admin")
def user_revoke_training(user_id: int):
    def revoke(user):
        accounts.revoke_training(user, reason=request.form.get("reason", ""),
                                 by=current_user().username)

    return _act(user_id, revoke, "Training revoked: no access until new training is recorded.")


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@requires("admin")
def user_password(user_id: int):
    return _act(user_id, lambda user: accounts.set_password(
        user, request.form.get("password", "")[:256], by=current_user().username), "Password set.")


@bp.route("/users/<int:user_id>/totp", methods=["POST"])
@requires("admin")
def user_totp(user_id: int):
    user = _user_or_404(user_id)
    uri = accounts.new_totp_secret(user, by=current_user().username)
    return render_template("admin/user_created.html", user=user, uri=uri)


@bp.route("/holds")
@requires("admin")
def holds():
    rows = list(EvidenceHold.select().order_by(EvidenceHold.id.desc()).limit(500))
    exports = sorted((p for p in ctx().datadir.exports.iterdir() if not p.name.startswith(".")),
                     key=lambda p: p.stat().st_mtime, reverse=True)[:100]
    audit.record("holds_viewed", username=current_user().username, detail=f"{len(rows)} holds")
    return render_template("admin/holds.html", holds=rows, exports=exports)


@bp.route("/audit", endpoint="audit")
@requires("audit")
def audit_view():
    args = request.args
    query = AccessRecord.select()
    if args.get("username"):
        query = query.where(AccessRecord.username == args["username"].strip().lower())
    if args.get("action"):
        query = query.where(AccessRecord.action.startswith(args["action"].strip()))
    if args.get("text"):
        text = args["text"].strip()
        query = query.where(AccessRecord.query.contains(text) | AccessRecord.purpose.contains(text)
                            | AccessRecord.case_number.contains(text)
                            | AccessRecord.detail.contains(text))
    for key, label in (("since", "From"), ("until", "To")):
        if not args.get(key):
            continue
        try:
            # a time, not text: "2026-12-02 18:19" and "2026-12-02T18:19" both mean that minute
            when = dt.datetime.fromisoformat(args[key].strip())
        except ValueError:
            flash(f"{label} (UTC) must be a date or a date and time, like 2026-11-01 or 2026-11-01 14:30; "
                  "that filter was not applied.", "error")
            continue
        when = when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when
        if key == "until" and _is_date_only(args[key]):
            when += dt.timedelta(days=1)  # "To 2026-12-01": through that day, as `--until` on the command line
        stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%f")  # as the records write it (they end in Z)
        query = query.where(AccessRecord.at >= stamp if key == "since" else AccessRecord.at < stamp)
    page = page_number(args)
    rows = list(query.order_by(AccessRecord.id.desc()).paginate(page, AUDIT_PAGE))
    check = audit.verify() if args.get("verify") else None
    filters = {k: v for k, v in args.items() if k in ("username", "action", "text", "since", "until") and v}
    audit.record("audit.viewed", username=current_user().username,
                 query=" ".join(f"{k}={v}" for k, v in filters.items()) or "all",
                 detail=f"page {page}" + (f"; chain {'ok' if check.ok else 'BROKEN'}" if check else ""))
    return render_template("admin/audit.html", rows=rows, filters=filters, page=page, check=check,
                           more=len(rows) == AUDIT_PAGE)
