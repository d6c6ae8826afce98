"""Helpers for the web tests: an app on a temporary data folder, users, sign-in."""

from __future__ import annotations

import datetime as dt
import re

import pyotp

from gateway.accounts import users
from gateway.config import Config
from gateway.store.models import User, WebSession, utcnow

PASSWORD = "correct horse battery"


def make_app(datadir, services=None, **test_config):
    from gateway.web import create_app

    config = Config()
    return create_app(config=config, datadir=datadir, services=services,
                      test_config={"TESTING": True, "LOGIN_RATE": (1000, 60.0), **test_config})


def make_user(name="officer1", role="officer", trained=True, clets=True) -> User:
    until = dt.date.today() + dt.timedelta(days=30) if trained else None
    return users.create_user(name, PASSWORD, role, trained_until=until, clets=clets)


def csrf(client, path="/login") -> str:
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(client, user: User, password: str = PASSWORD, code: str | None = None):
    token = csrf(client)
    return client.post("/login", data={
        "csrf_token": token, "username": user.username, "password": password,
        "code": code if code is not None else pyotp.TOTP(user.totp_secret).now(),
    })


def post(client, path: str, data: dict | None = None, token_from: str = "/"):
    token = csrf(client, token_from)
    return client.post(path, data={"csrf_token": token, **(data or {})})


def server_session(client) -> WebSession | None:
    """The server's record of the session behind this client's cookie."""
    from gateway.store import websessions

    with client.session_transaction() as sess:
        return websessions.find(sess.get("sid"))


def age_session(client, *, idle_s: float = 0.0, signed_in_s: float = 0.0) -> None:
    """Move the session's last input and sign-in back in time (the times live on the server)."""
    websession = server_session(client)
    assert websession is not None, "no open session"
    changes = {}
    if idle_s:
        changes[WebSession.seen_at] = utcnow() - dt.timedelta(seconds=idle_s)
    if signed_in_s:
        changes[WebSession.created_at] = utcnow() - dt.timedelta(seconds=signed_in_s)
    WebSession.update(changes).where(WebSession.id == websession.id).execute()
