"""Creating and changing accounts; every change goes to the access record."""

from __future__ import annotations

import datetime as dt
import re

import pyotp

from gateway.accounts import passwords
from gateway.accounts.errors import AccountError
from gateway.accounts.roles import ROLES
from gateway.store import audit
from gateway.store.models import LoginFailure, TrainingRecord, User, utcnow

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
TOTP_ISSUER = "ALPR"


def normalise_username(name: str) -> str:
    return name.strip().lower()


def get_user(username: str) -> User | None:
    return User.get_or_none(User.username == normalise_username(username))


def require_user(username: str) -> User:
    user = get_user(username)
    if user is None:
        raise AccountError(f"no user named {username!r}; list them with `alpr user list`")
    return user


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")


def create_user(
    username: str,
    password: str,
    role: str,
    *,
    trained_until: dt.date | None = None,
    clets: bool = False,
    full_name: str = "",
    agency: str = "",
    by: str = "",
) -> User:
    """Create an account with a fresh TOTP secret; training is recorded if given."""
    name = normalise_username(username)
    if not USERNAME_RE.match(name):
        raise AccountError(
            "a user name is 2-32 characters: letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    _check_role(role)
    if get_user(name) is not None:
        raise AccountError(f"a user named {name!r} already exists")
    passwords.check_rules(password, name)
    today = dt.date.today()
    if trained_until is not None:
        _check_training_dates(today, trained_until)
    # one transaction: an account whose training could not be recorded must not be left behind
    # half made (its one-time-code secret never shown, its name taken)
    with User._meta.database.atomic():
        user = User.create(
            username=name,
            password_hash=passwords.hash_password(password),
            role=role,
            full_name=full_name,
            agency=agency,
            clets_authorized=clets,
            totp_secret=pyotp.random_base32(),
        )
        audit.record(
            "user_created", username=by, query=name, outcome="ok",
            detail=f"role={role} clets={'yes' if clets else 'no'}",
        )
        if trained_until is not None:
            record_training(user, completed_on=today, expires_on=trained_until, by=by)
    return user


def _check_training_dates(completed_on: dt.date, expires_on: dt.date) -> None:
    if expires_on <= completed_on:
        raise AccountError(f"the training expiry date ({expires_on}) must be after the completion date "
                           f"({completed_on})")


def provisioning_uri(user: User) -> str:
    """otpauth:// URI for an authenticator app (shown once, as text or a QR code)."""
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)


def record_training(
    user: User,
    *,
    completed_on: dt.date,
    expires_on: dt.date,
    course: str = "ALPR operator",
    by: str = "",
) -> TrainingRecord:
    _check_training_dates(completed_on, expires_on)
    record = TrainingRecord.create(
        user=user, course=course, completed_on=completed_on, expires_on=expires_on, recorded_by=by
    )
    audit.record(
        "training_recorded", username=by, query=user.username, outcome="ok",
        detail=f"course={course} completed={completed_on} expires={expires_on}",
    )
    return record


def current_training(user: User, today: dt.date | None = None) -> TrainingRecord | None:
    """The unexpired training record that lasts longest, or None (no access at all)."""
    today = today or utcnow().date()
    return (
        TrainingRecord.select()
        .where((TrainingRecord.user == user) & (TrainingRecord.expires_on >= today)
               & (TrainingRecord.completed_on <= today))
        .order_by(TrainingRecord.expires_on.desc())
        .first()
    )


def is_trained(user: User, today: dt.date | None = None) -> bool:
    return current_training(user, today) is not None


def set_password(user: User, password: str, by: str = "") -> None:
    passwords.check_rules(password, user.username)
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = utcnow()
    user.save()
    audit.record("password_changed", username=by or user.username, query=user.username, outcome="ok")


def set_role(user: User, role: str, *, clets: bool, by: str) -> None:
    _check_role(role)
    before = f"role={user.role} clets={'yes' if user.clets_authorized else 'no'}"
    user.role = role
    user.clets_authorized = clets
    user.save()
    after = f"role={role} clets={'yes' if clets else 'no'}"
    audit.record("privilege_changed", username=by, query=user.username, outcome="ok",
                 detail=f"{before} -> {after}")


def unlock(user: User, by: str = "") -> None:
    """Clear a lockout (and a 90-day idle disable): an administrator's act, recorded."""
    was = []
    if user.locked:
        was.append("locked")
    if user.disabled:
        was.append("disabled")
        # Restart the idle clock, or the next sign-in would disable the account again.
        user.last_login_at = utcnow()
    user.locked = False
    user.locked_at = None
    user.disabled = False
    user.save()
    LoginFailure.delete().where(LoginFailure.user == user).execute()
    audit.record("account_unlocked", username=by, query=user.username, outcome="ok",
                 detail=",".join(was) or "was not locked")


def new_totp_secret(user: User, by: str = "") -> str:
    user.totp_secret = pyotp.random_base32()
    user.save()
    audit.record("totp_reset", username=by, query=user.username, outcome="ok")
    return provisioning_uri(user)
