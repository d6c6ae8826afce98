"""Signed-in sessions of the officer's screen, kept on the server.

The browser's cookie carries only a random token. Whose session it is, when it
began and was last used, whether its screen is locked and whether it has ended
are kept here, so that signing out, a screen lock or the end of a session holds
for every copy of the cookie, not only for the browser that asked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from gateway.store.models import User, WebSession, utcnow

# Rows of sessions ended (or last used) longer ago than this are deleted: the
# access record, not this table, is the history of who signed in and out.
KEEP_ENDED = dt.timedelta(days=7)
TOUCH_EVERY = dt.timedelta(seconds=30)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(user: User) -> str:
    """Open a session for `user`; return the token for the cookie."""
    now = utcnow()
    old = now - KEEP_ENDED
    WebSession.delete().where(
        (WebSession.ended_at < old) | (WebSession.ended_at.is_null() & (WebSession.seen_at < old))
    ).execute()
    token = secrets.token_urlsafe(32)
    WebSession.create(token_sha256=_digest(token), user=user, created_at=now, seen_at=now)
    return token


def find(token: str | None) -> WebSession | None:
    """The open session behind a cookie's token; None if unknown or ended."""
    if not token or not isinstance(token, str):
        return None
    return WebSession.get_or_none((WebSession.token_sha256 == _digest(token))
                                  & WebSession.ended_at.is_null())


def touch(websession: WebSession) -> None:
    """Note the officer's activity. At most one write per TOUCH_EVERY: the idle lock and the idle
    end count in minutes, and a durable write on every tap would buy nothing for them."""
    now = utcnow()
    if websession.seen_at is not None and now - websession.seen_at < TOUCH_EVERY:
        return
    websession.seen_at = now
    WebSession.update(seen_at=now).where(WebSession.id == websession.id).execute()


def set_locked(websession: WebSession, locked: bool) -> None:
    websession.locked = locked
    changes = {WebSession.locked: locked}
    if not locked:
        websession.seen_at = changes[WebSession.seen_at] = utcnow()
    WebSession.update(changes).where(WebSession.id == websession.id).execute()


def end(websession: WebSession, why: str) -> bool:
    """End the session; False if it had already ended (a second copy of the cookie)."""
    now = utcnow()
    ended = WebSession.update(ended_at=now, ended_why=why[:200]).where(
        (WebSession.id == websession.id) & WebSession.ended_at.is_null()).execute()
    websession.ended_at = now
    return bool(ended)


def is_open(websession_id: int) -> bool:
    return WebSession.select().where((WebSession.id == websession_id)
                                     & WebSession.ended_at.is_null()
                                     & (WebSession.locked == False)).exists()  # noqa: E712


def set_search(websession: WebSession, purpose: str, case_number: str, read_ids) -> None:
    websession.search = {"purpose": purpose, "case_number": case_number,
                         "reads": [int(i) for i in read_ids]}
    WebSession.update(search=websession.search).where(WebSession.id == websession.id).execute()

