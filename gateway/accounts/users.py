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
# Who and why, on an account the 90-day idle rule disabled.
IDLE_DISABLED_BY = "system"
IDLE_REASON = "idle 90 days"


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
        _unexpired(user, today)
        .where(TrainingRecord.completed_on <= today)
        .order_by(TrainingRecord.expires_on.desc())
        .first()
    )


def _unexpired(user: User, today: dt.date):
    """Training records of `user` not expired by `today` and not revoked."""
    return TrainingRecord.select().where(
        (TrainingRecord.user == user) & (TrainingRecord.expires_on >= today)
        & TrainingRecord.revoked_at.is_null()
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


def _reason(reason: str, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise AccountError(f"give the reason {what} (--reason TEXT on the command line): "
                           "it goes to the access record")
    return text[:500]


def _not_yourself(user: User, by: str, what: str) -> None:
    # An administrator who did this to themselves would lose access at once, with no
    # way back but another administrator: ask that one to do it.
    if by and normalise_username(by) == user.username:
        raise AccountError(f"you cannot {what} your own account; ask another ALPR administrator")


def admin_disabled(user: User) -> bool:
    """Disabled on purpose by an administrator (not by the 90-day idle rule, nor before
    the reason was kept: those are cleared by `unlock`)."""
    return bool(user.disabled) and user.disabled_by not in ("", IDLE_DISABLED_BY)


def disable_idle(user: User, now: dt.datetime) -> None:
    """The 90-day rule (CJIS): disable an account unused that long; recorded."""
    _set_disabled(user, now, IDLE_DISABLED_BY, IDLE_REASON)
    user.save()
    audit.record("account_disabled", username=user.username, outcome=IDLE_REASON)


def disable(user: User, *, reason: str, by: str) -> None:
    """An administrator takes an account's access away, at once and until `enable`."""
    reason = _reason(reason, "for disabling the account")
    _not_yourself(user, by, "disable")
    if admin_disabled(user):
        raise AccountError(f"{user.username} is already disabled (by {user.disabled_by}: "
                           f"{user.disabled_reason}); `alpr user enable {user.username}` re-enables it")
    was = "idle-disabled" if user.disabled else "open"
    _set_disabled(user, utcnow(), by or "unknown", reason)
    user.save()
    audit.record("account_disabled", username=by, query=user.username, outcome="ok",
                 detail=f"reason={reason}; was {was}")


def enable(user: User, *, by: str) -> str | None:
    """Re-enable a disabled account, whoever disabled it; returns a note if it stays locked."""
    if not user.disabled:
        raise AccountError(f"{user.username} is not disabled; nothing to enable"
                           + (f" (it is locked: `alpr user unlock {user.username}`)" if user.locked else ""))
    detail = f"was disabled by {user.disabled_by or 'the idle rule'}: {user.disabled_reason or IDLE_REASON}"
    _clear_disable(user)
    user.save()
    audit.record("account_enabled", username=by, query=user.username, outcome="ok", detail=detail)
    return "It is still locked: unlock it too." if user.locked else None


def _set_disabled(user: User, at: dt.datetime | None, by: str, reason: str) -> None:
    """The account's disable and its who, when and why, set together (`at` None: open)."""
    user.disabled = at is not None
    user.disabled_at = at
    user.disabled_by = by
    user.disabled_reason = reason


def _clear_disable(user: User) -> None:
    _set_disabled(user, None, "", "")
    # Restart the idle clock, or the next sign-in would disable the account again.
    user.last_login_at = utcnow()


def unlock(user: User, by: str = "") -> str | None:
    """Clear a lockout and a 90-day idle disable: an administrator's act, recorded.

    An account an administrator disabled stays disabled (that takes `enable`, a
    deliberate act of its own); the returned note says so.
    """
    was = []
    if user.locked:
        was.append("locked")
    kept = admin_disabled(user)
    if user.disabled and not kept:
        was.append("disabled")
        _clear_disable(user)
    user.locked = False
    user.locked_at = None
    user.save()
    LoginFailure.delete().where(LoginFailure.user == user).execute()
    audit.record("account_unlocked", username=by, query=user.username, outcome="ok",
                 detail=(",".join(was) or "was not locked")
                 + ("; still disabled by an administrator" if kept else ""))
    if kept:
        return (f"It is still disabled by {user.disabled_by} ({user.disabled_reason}): "
                "enable it to give access back.")
    return None


def revoke_training(user: User, *, reason: str, by: str,
                    today: dt.date | None = None) -> list[TrainingRecord]:
    """Revoke every unexpired training record of `user`: kept, marked revoked, no access."""
    reason = _reason(reason, "for revoking the training")
    _not_yourself(user, by, "revoke the training of")
    today = today or utcnow().date()
    records = list(_unexpired(user, today))
    if not records:
        raise AccountError(f"{user.username} has no unexpired training to revoke")
    now = utcnow()
    with User._meta.database.atomic():
        for record in records:
            record.revoked_at = now
            record.revoked_by = by or "unknown"
            record.revoked_reason = reason
            record.save()
        audit.record("training_revoked", username=by, query=user.username, outcome="ok",
                     detail=f"reason={reason}; " + "; ".join(
                         f"record {r.id} {r.course} until {r.expires_on}" for r in records))
    return records


def new_totp_secret(user: User, by: str = "") -> str:
    user.totp_secret = pyotp.random_base32()
    user.save()
    audit.record("totp_reset", username=by, query=user.username, outcome="ok")
    return provisioning_uri(user)
