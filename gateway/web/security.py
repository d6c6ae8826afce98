"""Security that applies to every response: headers, CSRF, sign-in rate limit.

CSP allows scripts, styles, images and connections from this origin only:
no inline script, no inline style, no framing.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time
from collections import deque

from flask import abort, request, session

from gateway.datadir import DataDir

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; media-src 'self'; font-src 'self'; manifest-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def secret_key(datadir: DataDir) -> bytes:
    """The session-signing key: 32 random bytes kept in <data>/keys (0600)."""
    path = datadir.keys / "web-secret.key"
    if path.exists() and path.stat().st_size >= 32:
        return path.read_bytes()
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf() -> None:
    if request.method not in UNSAFE_METHODS:
        return
    expected = session.get("csrf", "")
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        abort(400, description="This form has expired. Go back, reload the page and try again.")


class RateLimiter:
    """At most `limit` events per key in a sliding `window` of seconds."""

    def __init__(self, limit: int, window: float):
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and now - events[0] > self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            if len(self._events) > 10_000:  # a flood of addresses must not exhaust memory
                self._events = {k: v for k, v in self._events.items() if v}
            return True


def _headers(response):
    h = response.headers
    h["Content-Security-Policy"] = CSP
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "no-referrer"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Cross-Origin-Resource-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
    if request.endpoint != "static":
        # Plate data must not linger in the tablet's cache.
        h["Cache-Control"] = "no-store"
    if request.is_secure:
        h["Strict-Transport-Security"] = "max-age=31536000"
    return response


def init_app(app) -> None:
    limit, window = app.config["LOGIN_RATE"]
    app.extensions["alpr_login_limiter"] = RateLimiter(limit, window)
    app.before_request(check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
