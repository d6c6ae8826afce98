"""Signing in: password, one-time code, lockout, idle accounts and training.

CJIS: 5 consecutive failed logons within 15 minutes lock the account until an
administrator unlocks it; accounts unused for 90 days are disabled. Policy
462.3(d): no access at all without recorded, current training. Every attempt,
whatever its outcome, goes to the access record.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging

import pyotp

from gateway.accounts import passwords
from gateway.accounts.errors import SignInRefused
from gateway.accounts.users import (
    admin_disabled,
    current_training,
    disable_idle,
    get_user,
    normalise_username,
)
from gateway.store import audit
from gateway.store.models import LoginFailure, Setting, User, utcnow

logger = logging.getLogger(__name__)

MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
IDLE_DISABLE = dt.timedelta(days=90)
TOTP_LAST_KEY = "accounts.totp_last_step."

CREDENTIALS_MESSAGE = "User name, password or one-time code not accepted."
LOCKED_MESSAGE = (
    "This account is locked after {n} failed sign-ins. "
    "Ask an ALPR administrator (or your supervisor) to unlock it."
)
DISABLED_MESSAGE = (
    "This account was disabled after 90 days without use. Ask an ALPR administrator to re-enable it."
)
ADMIN_DISABLED_MESSAGE = (
    "This account has been disabled by an ALPR administrator. Ask an ALPR administrator "
    "if you need access again."
)
UNTRAINED_MESSAGE = (
    "No current ALPR training is recorded for this account (policy 462.3(d)). "
    "Ask an ALPR administrator to record your training."
)


def _refuse(reason: str, message: str, username: str, terminal: str, detail: str = "") -> None:
    audit.record(
        "logon_failed" if reason == "credentials" else "logon_refused",
        username=username, outcome=reason, detail=f"terminal={terminal} {detail}".strip(),
    )
    raise SignInRefused(reason, message)


def code_step(user: User, code: str, now: dt.datetime | None = None) -> int | None:
    """The time step `code` belongs to, or None if it is not a current code."""
    code = (code or "").strip().replace(" ", "")
    if not user.totp_secret or not code.isdigit():
        return None
    totp = pyotp.TOTP(user.totp_secret)
    moment = (now or utcnow()).replace(tzinfo=dt.UTC)
    step = totp.timecode(moment)
    # One step either side: tablet clocks drift, and officers type slowly.
    for offset in (0, -1, 1):
        if hmac.compare_digest(totp.generate_otp(step + offset), code):
            return step + offset
    return None


def verify_code(user: User, code: str) -> bool:
    return code_step(user, code) is not None


def _code_unused(user: User, step: int) -> bool:
    """RFC 6238 5.2: a code is accepted once; a replayed one (seen over a shoulder) is not."""
    last = Setting.get_or_none(Setting.key == f"{TOTP_LAST_KEY}{user.id}")
    return last is None or int(last.value or 0) < step


def _mark_code_used(user: User, step: int) -> None:
    Setting.insert(key=f"{TOTP_LAST_KEY}{user.id}", value=step, updated_at=utcnow()).on_conflict(
        conflict_target=[Setting.key], update={Setting.value: step, Setting.updated_at: utcnow()},
    ).execute()


def _count_failure(user: User, terminal: str, now: dt.datetime) -> None:
    LoginFailure.create(user=user, at=now, terminal=terminal)
    recent = (
        LoginFailure.select()
        .where((LoginFailure.user == user) & (LoginFailure.at > now - FAILURE_WINDOW))
        .count()
    )
    if recent >= MAX_FAILURES and not user.locked:
        user.locked = True
        user.locked_at = now
        user.save()
        audit.record("account_locked", username=user.username, outcome="locked",
                     detail=f"{recent} failed sign-ins within 15 minutes; terminal={terminal}")
        logger.warning("account %s locked after %d failed sign-ins", user.username, recent)


def authenticate(
    username: str, password: str, code: str, *, terminal: str = "", now: dt.datetime | None = None
) -> User:
    """Return the user if every check passes, else raise SignInRefused (already recorded)."""
    now = now or utcnow()
    name = normalise_username(username)
    user = get_user(name)
    if user is None:
        # Spend the same time as a real check so user names cannot be probed by timing.
        passwords.verify_password(_DUMMY_HASH, password)
        _refuse("credentials", CREDENTIALS_MESSAGE, name, terminal, "no such user")
    if user.locked:
        _refuse("locked", LOCKED_MESSAGE.format(n=MAX_FAILURES), name, terminal)
    if user.disabled:
        _refuse("disabled", ADMIN_DISABLED_MESSAGE if admin_disabled(user) else DISABLED_MESSAGE,
                name, terminal)
    if not passwords.verify_password(user.password_hash, password):
        _count_failure(user, terminal, now)
        if user.locked:
            _refuse("locked", LOCKED_MESSAGE.format(n=MAX_FAILURES), name, terminal, "bad password")
        _refuse("credentials", CREDENTIALS_MESSAGE, name, terminal, "bad password")
    step = code_step(user, code, now)
    if step is None or not _code_unused(user, step):
        _count_failure(user, terminal, now)
        why = "bad one-time code" if step is None else "one-time code already used"
        if user.locked:
            _refuse("locked", LOCKED_MESSAGE.format(n=MAX_FAILURES), name, terminal, why)
        _refuse("credentials", CREDENTIALS_MESSAGE, name, terminal, why)
    last_use = user.last_login_at or user.created_at
    if last_use is not None and now - last_use > IDLE_DISABLE:
        disable_idle(user, now)
        _refuse("disabled", DISABLED_MESSAGE, name, terminal)
    if current_training(user, now.date()) is None:
        _refuse("untrained", UNTRAINED_MESSAGE, name, terminal)
    _mark_code_used(user, step)
    LoginFailure.delete().where(LoginFailure.user == user).execute()
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = now
    user.save()
    audit.record("logon", username=name, outcome="ok", detail=f"terminal={terminal}")
    return user


def confirm_password(user: User, password: str, *, terminal: str = "") -> bool:
    """Unlocking the screen: the password again; failures count toward lockout."""
    if user.locked or user.disabled:
        return False
    if passwords.verify_password(user.password_hash, password):
        LoginFailure.delete().where(LoginFailure.user == user).execute()
        audit.record("screen_unlocked", username=user.username, outcome="ok",
                     detail=f"terminal={terminal}")
        return True
    _count_failure(user, terminal, utcnow())
    audit.record("screen_unlock_failed", username=user.username,
                 outcome="locked" if user.locked else "credentials", detail=f"terminal={terminal}")
    return False


def disable_idle_accounts(now: dt.datetime | None = None) -> list[str]:
    """Disable every account unused for 90 days; returns their names."""
    now = now or utcnow()
    cutoff = now - IDLE_DISABLE
    names = []
    for user in User.select().where(User.disabled == False):  # noqa: E712 - peewee expression
        last_use = user.last_login_at or user.created_at
        if last_use is not None and last_use < cutoff:
            disable_idle(user, now)
            names.append(user.username)
    return names


_DUMMY_HASH = passwords.hash_password("timing-equaliser-not-a-password")
