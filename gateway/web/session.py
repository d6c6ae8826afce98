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

The session itself is kept on the server (gateway.store.websessions); the
signed cookie carries only its token (and the CSRF token). Signing out, the
screen lock and every other end of a session therefore hold for a copy of the
cookie taken before, which the browser's own cookie being cleared would not.
"""

from __future__ import annotations

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
from gateway.store import audit, websessions
from gateway.store.models import User, WebSession, utcnow
from gateway.web.context import ctx

PUBLIC_ENDPOINTS = {"static", "auth.login"}
# Reachable while the screen is locked.
LOCKED_ENDPOINTS = {"auth.lock", "auth.logout"}
SIGNED_IN = "signed_in"
RESUME = "resume"  # in the cookie: the page a session ended on, shown again after signing in


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


def terminal() -> str:
    """This car's terminal and the client's address, for the access record."""
    return f"{ctx().config.agency.terminal}@{request.remote_addr}"


def sign_in(user: User) -> None:
    # A fresh session on sign-in: nothing from before (fixation) survives, and the
    # session this browser held before is ended, not merely forgotten.
    replaced = sign_out("signed in again")
    if replaced is not None:
        _record_logoff(replaced, "signed in again")
    session.permanent = True
    session["sid"] = websessions.start(user)


def _record_logoff(ended: WebSession, why: str) -> None:
    audit.record("logoff", username=ended.user.username, outcome=why, detail=f"terminal={terminal()}")


def sign_out(why: str = "signed out") -> WebSession | None:
    """End this browser's session on the server and clear its cookie; the session
    ended, or None if there was none open."""
    websession = getattr(g, "websession", None) or websessions.find(session.get("sid"))
    session.clear()
    g.websession = None
    if websession is not None and websessions.end(websession, why):
        return websession
    return None


def current_websession() -> WebSession | None:
    return getattr(g, "websession", None)


def search_context() -> dict | None:
    """The purpose, case number and result read ids of this session's latest search."""
    websession = current_websession()
    return websession.search if websession is not None else None


def set_search_context(purpose: str, case_number: str, read_ids) -> None:
    websessions.set_search(current_websession(), purpose, case_number, read_ids)


def set_locked(locked: bool) -> None:
    websessions.set_locked(current_websession(), locked)


def is_locked() -> bool:
    websession = current_websession()
    return websession is not None and websession.locked


def asked_by_script() -> bool:
    """A request the page's script makes (fetch, event stream, /api/), not a page to show."""
    return request.accept_mimetypes.best == "text/event-stream" or request.path.startswith("/api/") \
        or request.headers.get("X-Requested-With") == "fetch"


def _to_sign_in(message: str | None = None, why: str = ""):
    ended = sign_out(why or "ended")
    if ended is not None and why:
        # Ended by the server rather than by the officer's sign-out (recorded by the view).
        _record_logoff(ended, why)
    if message:
        flash(message, "warning")
    if asked_by_script():
        abort(401)
    resume = _page_to_resume()
    if resume:
        session[RESUME] = resume
    return redirect(url_for("auth.login"))


def _page_to_resume() -> str | None:
    """The page to come back to after signing in again: this one, when it is a page a GET
    shows (a form posted as the session ended comes back as that form, which app.js refills
    with what was typed); None for a POST-only action."""
    if request.method not in ("GET", "POST") or request.endpoint in PUBLIC_ENDPOINTS | LOCKED_ENDPOINTS:
        return None
    try:
        current_app.create_url_adapter(request).match(request.path, method="GET")
    except Exception:  # noqa: BLE001 - no GET view at this path (405), or none at all
        return None
    return request.full_path.rstrip("?") if request.method == "GET" else request.path


def take_resume() -> str | None:
    """The page kept by the last end of a session in this browser, once."""
    return session.pop(RESUME, None)


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
    had_cookie = bool(session.get("sid"))
    websession = websessions.find(session.get("sid"))
    if websession is None:
        # No session, or one ended (signed out, timed out, or signed in again elsewhere in
        # this browser): a copy of the cookie taken before opens nothing. There is nothing to
        # end on the server, so the cookie is cleared here rather than looked up again.
        session.clear()
        return _to_sign_in("Your session has ended. Sign in again to continue." if had_cookie else None)
    g.websession = websession
    user = User.get_or_none(User.id == websession.user_id)
    if user is None:
        return _to_sign_in("Please sign in again.", why="account removed")
    if user.password_changed_at and user.password_changed_at > websession.created_at:
        return _to_sign_in("Your password was changed. Sign in again with the new password.",
                           why="password changed")
    if user.locked:
        return _to_sign_in("This account is locked. Ask an ALPR administrator to unlock it.",
                           why="account locked")
    if user.disabled:
        return _to_sign_in("This account is disabled. Ask an ALPR administrator.",
                           why="account disabled")
    if not is_trained(user):
        return _to_sign_in("Your ALPR training has expired or is not recorded (policy 462.3(d)). "
                           "Ask an ALPR administrator to record your training.",
                           why="training not current")
    now = utcnow()
    cfg = current_app.config
    if (now - websession.created_at).total_seconds() > cfg["REAUTH_S"]:
        return _to_sign_in("Please sign in again (required every 12 hours).",
                           why="re-authentication due")
    idle = (now - websession.seen_at).total_seconds()
    if idle > cfg["SESSION_END_IDLE_S"]:
        return _to_sign_in("Your session ended after an hour without use. Please sign in again.",
                           why="idle")
    g.user = user
    if cfg["IDLE_LOCK_S"] and idle > cfg["IDLE_LOCK_S"] and not websession.locked:
        websessions.set_locked(websession, True)
    if websession.locked and endpoint not in LOCKED_ENDPOINTS:
        if asked_by_script():
            abort(401)
        return redirect(url_for("auth.lock", next=request.path))
    if permission is None:
        abort(403)  # default deny: the view declared nothing
    if permission != SIGNED_IN and not can(user.role, permission):
        abort(403)
    if not getattr(view, "_alpr_passive", False) and not websession.locked:
        websessions.touch(websession)
    return None


def _inject():
    user = current_user()
    return {
        "current_user": user,
        "can": (lambda perm: user is not None and can(user.role, perm)),
        "idle_lock_s": current_app.config["IDLE_LOCK_S"],
        "screen_locked": is_locked(),
    }


def _close_db(_exc=None):
    from gateway.store.models import database

    if database.obj is not None and not database.is_closed():
        database.close()


def init_app(app) -> None:
    app.before_request(_gate)
    app.context_processor(_inject)
    app.teardown_appcontext(_close_db)
