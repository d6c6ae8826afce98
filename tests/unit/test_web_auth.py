"""The door of the officer's screen: sign-in, lockout, training, CSRF, headers, locks."""

from __future__ import annotations

import datetime as dt
import re
import time

import pyotp
import pytest
from _web_helpers import (
    PASSWORD,
    age_session,
    csrf,
    make_app,
    make_user,
    post,
    server_session,
    sign_in,
)

from gateway.store.models import AccessRecord, TrainingRecord, User


@pytest.fixture
def app(db, datadir):
    return make_app(datadir)


@pytest.fixture
def client(app):
    return app.test_client()


def test_sign_in_with_password_and_code(client):
    user = make_user()
    response = sign_in(client, user)
    assert response.status_code == 302 and response.headers["Location"].endswith("/live")
    assert client.get("/live").status_code == 200
    assert AccessRecord.select().where(AccessRecord.action == "logon").count() == 1


def test_wrong_code_refused_and_recorded(client):
    user = make_user()
    response = sign_in(client, user, code="12345")
    assert response.status_code == 200
    assert "not accepted" in response.get_data(as_text=True)
    assert client.get("/live").status_code == 302
    assert AccessRecord.select().where(AccessRecord.action == "logon_failed").count() == 1


def test_locked_after_five_bad_passwords_told_whom_to_ask(client):
    user = make_user()
    for _ in range(4):
        assert "not accepted" in sign_in(client, user, password="not the password").get_data(as_text=True)
    text = sign_in(client, user, password="not the password").get_data(as_text=True)
    assert "locked" in text and "administrator" in text
    # The right password does not help, and no session is given.
    assert "locked" in sign_in(client, user).get_data(as_text=True)
    assert client.get("/live").status_code == 302
    assert User.get_by_id(user.id).locked


def test_untrained_refused(client):
    user = make_user(trained=False)
    response = sign_in(client, user)
    assert "training" in response.get_data(as_text=True)
    assert client.get("/live").status_code == 302


def test_login_rate_limited(db, datadir):
    client = make_app(datadir, LOGIN_RATE=(3, 60.0)).test_client()
    user = make_user()
    codes = [sign_in(client, user, password="nope nope nope").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_csrf_required_on_every_post(app, client):
    user = make_user()
    response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                           "code": "000000"})
    assert response.status_code == 400
    sign_in(client, user)
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        assert client.post(path, data={"x": "1"}).status_code == 400, path


def test_security_headers_and_cookie_flags(db, datadir):
    client = make_app(datadir).test_client()
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_no_inline_script_or_style_in_templates():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "gateway" / "web"
    for template in root.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert " style=" not in text and "<style" not in text, template
        assert not re.search(r"\son[a-z]+=", text), template  # no inline event handlers


def _every_get_path(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        yield rule.endpoint, re.sub(r"<(?:[^:>]+:)?([^>]+)>", "1", rule.rule).replace("/1.jpg", "/" + "a" * 64 + ".jpg")


def test_nothing_without_sign_in_but_the_sign_in_page(app, client):
    for endpoint, path in _every_get_path(app):
        response = client.get(path)
        if endpoint == "auth.login":
            assert response.status_code == 200
            continue
        assert response.status_code in (302, 401), (path, response.status_code)
        if response.status_code == 302:
            assert response.headers["Location"].endswith("/login"), path
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and rule.endpoint != "auth.login":
            path = re.sub(r"<[^>]+>", "1", rule.rule)
            assert post(client, path, token_from="/login").status_code in (302, 401), path


def _seed_plate_data():
    from gateway.hotlist.wanted import add_wanted
    from gateway.store.images import ImageStore  # noqa: F401 - the real store below
    from gateway.store.models import Read

    Read.create(plate="SECRET1", confidence=0.9, seen_at=dt.datetime(2026, 1, 1), board_id="b1")
    add_wanted("SECRET*", reason="test", case_number="C-1",
               expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1),
               username="admin")


def test_untrained_user_sees_no_read_alert_or_hotlist_at_any_url(app, client):
    """Signed in while trained, then the training lapses: every URL refuses."""
    _seed_plate_data()
    user = make_user(role="administrator")
    assert sign_in(client, user).status_code == 302
    assert "SECRET" in client.get("/hotlists/1").get_data(as_text=True)  # the data is there
    TrainingRecord.delete().where(TrainingRecord.user == user).execute()
    for endpoint, path in _every_get_path(app):
        response = client.get(path)
        if endpoint == "auth.login":
            continue
        body = response.get_data(as_text=True)
        assert response.status_code in (302, 401), (path, response.status_code)
        assert "SECRET" not in body, path
    # The session ended: signing in again (with the next, unused code) is refused for want of training.
    next_code = pyotp.TOTP(user.totp_secret).at(time.time() + 30)
    assert "training" in sign_in(client, user, code=next_code).get_data(as_text=True)


def test_roles_limit_pages(client):
    tech = make_user("tech1", role="technician")
    sign_in(client, tech)
    assert client.get("/devices").status_code == 200
    for path in ("/live", "/alerts", "/search", "/hotlists", "/admin/users", "/admin/audit"):
        assert client.get(path).status_code == 403, path


def test_screen_lock_after_idle_and_unlock_with_password(db, datadir):
    client = make_app(datadir, IDLE_LOCK_S=60).test_client()
    user = make_user()
    sign_in(client, user)
    age_session(client, idle_s=120)
    response = client.get("/live")
    assert response.status_code == 302 and "/lock" in response.headers["Location"]
    assert client.get("/search").status_code == 302  # still locked
    # another officer can take the tablet over: the locked screen signs this one out
    assert 'id="lock-sign-out"' in client.get("/lock").get_data(as_text=True)
    token = csrf(client, "/lock")
    assert "not accepted" in client.post("/lock", data={"csrf_token": token, "password": "wrong one"}).get_data(as_text=True)
    response = client.post("/lock?next=/search", data={"csrf_token": token, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/search")
    assert client.get("/live").status_code == 200


def test_reauthentication_after_12_hours(client):
    user = make_user()
    sign_in(client, user)
    age_session(client, signed_in_s=12 * 3600 + 5)
    response = client.get("/live")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_locked_by_admin_ends_session_at_once(client):
    user = make_user()
    sign_in(client, user)
    User.update(locked=True).where(User.id == user.id).execute()
    assert client.get("/live").status_code == 302


def test_logout(client):
    user = make_user()
    sign_in(client, user)
    assert post(client, "/logout", token_from="/live").status_code == 302
    assert client.get("/live").status_code == 302


def _copy(app, client):
    """A second browser holding a copy of `client`'s session cookie, as taken by a thief."""
    copy = app.test_client()
    copy.set_cookie("alpr_session", client.get_cookie("alpr_session").value)
    return copy


def test_copied_cookie_refused_after_sign_out(app, client):
    user = make_user()
    sign_in(client, user)
    copy = _copy(app, client)
    assert copy.get("/live").status_code == 200  # the copy works while the session is open
    assert post(client, "/logout", token_from="/live").status_code == 302
    response = copy.get("/live")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert "Sign in again" in copy.get("/login").get_data(as_text=True)
    assert copy.get("/live/stream", headers={"Accept": "text/event-stream"}).status_code == 401
    assert AccessRecord.select().where(AccessRecord.action == "logoff").count() == 1


def test_copied_cookie_locked_after_screen_lock(app, client):
    user = make_user()
    sign_in(client, user)
    copy = _copy(app, client)
    assert 'href="/search"' in copy.get("/live").get_data(as_text=True)
    assert client.get("/lock").status_code == 200
    response = copy.get("/live")
    assert response.status_code == 302 and "/lock" in response.headers["Location"]
    assert copy.get("/search").status_code == 302
    assert server_session(client).locked
    assert 'href="/search"' not in copy.get("/lock").get_data(as_text=True)  # no way round the lock


def test_idle_end_and_reauthentication_end_the_session_on_the_server(app, client):
    user = make_user()
    sign_in(client, user)
    copy = _copy(app, client)
    age_session(client, idle_s=3601)
    response = client.get("/live")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert copy.get("/live").status_code == 302
    assert AccessRecord.get(AccessRecord.action == "logoff").outcome == "idle"


def test_signing_in_elsewhere_ends_no_other_session(app, client):
    user = make_user()
    sign_in(client, user)
    other = app.test_client()
    sign_in(other, user, code=pyotp.TOTP(user.totp_secret).at(time.time() + 30))
    assert client.get("/live").status_code == 200 and other.get("/live").status_code == 200


def test_signing_in_again_in_one_browser_ends_its_previous_session(app, client):
    user = make_user()
    sign_in(client, user)
    before = _copy(app, client)
    sign_in(client, user, code=pyotp.TOTP(user.totp_secret).at(time.time() + 30))
    assert client.get("/live").status_code == 200
    assert before.get("/live").status_code == 302


def test_password_change_ends_the_session(client):
    from gateway.accounts import users

    user = make_user()
    sign_in(client, user)
    users.set_password(User.get_by_id(user.id), "another long password", by="admin")
    response = client.get("/live")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert "new password" in client.get("/login").get_data(as_text=True)


def test_open_stream_stops_when_a_copy_signs_out(db, datadir, monkeypatch):
    from gateway.web import live

    monkeypatch.setattr(live, "SESSION_CHECK_S", 0.1)
    app = make_app(datadir, STREAM_MAX_S=30.0)
    client = app.test_client()
    sign_in(client, make_user())
    stream = client.get("/live/stream", buffered=False)
    assert post(_copy(app, client), "/logout", token_from="/live").status_code == 302
    started = time.monotonic()
    b"".join(stream.response)
    assert time.monotonic() - started < 5
