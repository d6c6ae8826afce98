"""The door: who is signed in, and whether they may have this page.

Every request except the sign-in page and static files needs a signed-in
user whose account is open and whose training is current (policy 462.3(d)),
checked against the database on every request, so that a lockout, a disable
or an expired training takes effect at once. Every view declares what it
needs with `@requires(permission)`; a view that declares nothing is refused
(default deny).

Session times (CJIS): the screen locks after `IDLE_LOCK_S` without input,
the session ends after `SESSION_END_IDLE_S` idle, and re-authentication is
required `REAUTH_S` after sign-in whatever the activity.
"""

from __future__ import annotations

import time

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    request,
    session,
    url_for,
)

from gateway.accounts.roles import can
from gateway.accounts.users import is_trained
from gateway.store.models import User

PUBLIC_ENDPOINTS = {"static", "auth.login"}
# Reachable while the screen is locked.
LOCKED_ENDPOINTS = {"auth.lock", "auth.logout"}
SIGNED_IN = "signed_in"


def requires(permission: str):
    """Declare what a view needs: a role permission, or SIGNED_IN for any trained user."""

    def decorate(view):
        view._alpr_permission = permission
        return view

    return decorate


def passive(view):
    """Mark a view that the page calls by itself (event stream, live fragments):
    it does not count as the officer's activity for the screen lock."""
    view._alpr_passive = True
    return view


def sign_in(user: User) -> None:
    # A fresh session on sign-in: nothing from before (fixation) survives.
    session.clear()
    now = time.time()
    session.permanent = True
    session["uid"] = user.id
    session["pw"] = user.password_hash[-16:]  # a password change ends other sessions
    session["auth_at"] = now
    session["seen"] = now


def sign_out() -> None:
    session.clear()


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "text/event-stream" or request.path.startswith("/api/") \
        or request.headers.get("X-Requested-With") == "fetch"


def _to_sign_in(message: str | None = None):
    sign_out()
    if message:
        flash(message, "warning")
    if _wants_json():
        abort(401)
    return redirect(url_for("auth.login"))


def current_user() -> User | None:
    return getattr(g, "user", None)


def _gate():
    endpoint = request.endpoint
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    if endpoint is None:
        abort(404)
    view = current_app.view_functions.get(endpoint)
    permission = getattr(view, "_alpr_permission", None)
    uid = session.get("uid")
    if not uid:
        return _to_sign_in()
    user = User.get_or_none(User.id == uid)
    if user is None or user.password_hash[-16:] != session.get("pw"):
        return _to_sign_in("Please sign in again.")
    if user.locked:
        return _to_sign_in("This account is locked. Ask an ALPR administrator to unlock it.")
    if user.disabled:
        return _to_sign_in("This account is disabled. Ask an ALPR administrator.")
    if not is_trained(user):
        return _to_sign_in("Your ALPR training has expired or is not recorded (policy 462.3(d)). "
                           "Ask an ALPR administrator to record your training.")
    now = time.time()
    cfg = current_app.config
    if now - session.get("auth_at", 0) > cfg["REAUTH_S"]:
        return _to_sign_in("Please sign in again (required every 12 hours).")
    idle = now - session.get("seen", 0)
    if idle > cfg["SESSION_END_IDLE_S"]:
        return _to_sign_in("Your session ended after an hour without use. Please sign in again.")
    g.user = user
    if cfg["IDLE_LOCK_S"] and idle > cfg["IDLE_LOCK_S"]:
        session["locked"] = True
    if session.get("locked") and endpoint not in LOCKED_ENDPOINTS:
        if _wants_json():
            abort(401)
        return redirect(url_for("auth.lock", next=request.path))
    if permission is None:
        abort(403)  # default deny: the view declared nothing
    if permission != SIGNED_IN and not can(user.role, permission):
        abort(403)
    if not getattr(view, "_alpr_passive", False) and not session.get("locked"):
        session["seen"] = now
    return None


def _inject():
    user = current_user()
    return {
        "current_user": user,
        "can": (lambda perm: user is not None and can(user.role, perm)),
        "idle_lock_s": current_app.config["IDLE_LOCK_S"],
    }


def _close_db(_exc=None):
    from gateway.store.models import database

    if database.obj is not None and not database.is_closed():
        database.close()


def init_app(app) -> None:
    app.before_request(_gate)
    app.context_processor(_inject)
    app.teardown_appcontext(_close_db)
