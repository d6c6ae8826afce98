"""Sign-in, sign-out and the screen lock."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)

from gateway.accounts import signin
from gateway.accounts.errors import SignInRefused
from gateway.accounts.roles import home_endpoint
from gateway.store import audit
from gateway.web.session import (
    SIGNED_IN,
    current_user,
    is_locked,
    requires,
    set_locked,
    sign_in,
    sign_out,
    take_resume,
    terminal,
)

bp = Blueprint("auth", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str | None:
    # Only a path on this site: never an open redirect.
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    status = 200
    if request.method == "POST":
        limiter = current_app.extensions["alpr_login_limiter"]
        if not limiter.allow(request.remote_addr or "?"):
            audit.record("logon_failed", username=request.form.get("username", "")[:64],
                         outcome="rate_limited", detail=f"terminal={terminal()}")
            error, status = "Too many sign-in attempts from this device. Wait a minute and try again.", 429
        else:
            try:
                user = signin.authenticate(
                    request.form.get("username", "")[:64], request.form.get("password", "")[:256],
                    request.form.get("code", "")[:12], terminal=terminal(),
                )
            except SignInRefused as exc:
                # A refusal is a normal page with the reason (not a 4xx): the officer
                # reads it, and the browser logs no error for it.
                error = str(exc)
            else:
                resume = _safe_next(take_resume())
                sign_in(user)
                return redirect(resume or url_for(home_endpoint(user.role)))
    return render_template("auth/login.html", error=error), status


@bp.route("/")
@requires(SIGNED_IN)
def home():
    return redirect(url_for(home_endpoint(current_user().role)))


@bp.route("/lock", methods=["GET", "POST"])
@requires(SIGNED_IN)
def lock():
    user = current_user()
    error = None
    if request.method == "GET" and not is_locked():
        # Locked on the server: a copy of the session cookie is locked as well.
        set_locked(True)
        audit.record("screen_locked", username=user.username, detail=f"terminal={terminal()}")
    if request.method == "POST":
        if signin.confirm_password(user, request.form.get("password", "")[:256], terminal=terminal()):
            set_locked(False)
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.home"))
        if user.locked:
            sign_out("account locked")
            flash(signin.LOCKED_MESSAGE.format(n=signin.MAX_FAILURES), "warning")
            return redirect(url_for("auth.login"))
        error = "Password not accepted."
    return render_template("auth/lock.html", error=error)


@bp.route("/logout", methods=["POST"])
@requires(SIGNED_IN)
def logout():
    audit.record("logoff", username=current_user().username, detail=f"terminal={terminal()}")
    sign_out()
    flash("Signed out.", "ok")
    return redirect(url_for("auth.login"))
