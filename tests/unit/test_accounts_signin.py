"""Accounts: password rules, training, lockout, idle disable, demo administrator."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pyotp
import pytest

from gateway.accounts import signin, users
from gateway.accounts.demo import ensure_demo_admin
from gateway.accounts.errors import AccountError, PasswordRejected, SignInRefused
from gateway.store import audit
from gateway.store.models import AccessRecord, User, utcnow

GOOD = "correct horse battery"


def make(name="alice", role="officer", trained=True, **kw):
    until = dt.date.today() + dt.timedelta(days=30) if trained else None
    return users.create_user(name, GOOD, role, trained_until=until, **kw)


def code(user):
    return pyotp.TOTP(user.totp_secret).now()


def actions():
    return [r.action for r in AccessRecord.select().order_by(AccessRecord.id)]


@pytest.mark.parametrize("pw", ["short1", "password123", "Password123", "aaaaaaaaaa", "xxalicexx"])
def test_password_rules_refuse(db, pw):
    with pytest.raises(PasswordRejected):
        users.create_user("alice", pw, "officer")
    assert not User.select().exists()


def test_unknown_role_and_duplicate_refused(db):
    with pytest.raises(AccountError, match="unknown role"):
        users.create_user("bob", GOOD, "chief")
    make("bob")
    with pytest.raises(AccountError, match="already exists"):
        make("bob")


def test_password_is_hashed_with_argon2(db):
    user = make()
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD not in user.password_hash


def test_sign_in_needs_password_and_code(db):
    user = make()
    assert signin.authenticate("alice", GOOD, code(user)).id == user.id
    with pytest.raises(SignInRefused) as info:
        signin.authenticate("alice", GOOD, "000000" if code(user) != "000000" else "111111")
    assert info.value.reason == "credentials"
    assert "logon" in actions() and "logon_failed" in actions()
    assert audit.verify().ok


def test_untrained_user_refused(db):
    user = make(trained=False)
    with pytest.raises(SignInRefused) as info:
        signin.authenticate("alice", GOOD, code(user))
    assert info.value.reason == "untrained"
    assert "training" in str(info.value)


def test_expired_training_refused(db):
    user = make(trained=False)
    users.record_training(user, completed_on=dt.date(2020, 1, 1), expires_on=dt.date(2021, 1, 1))
    assert not users.is_trained(user)
    with pytest.raises(SignInRefused, match="training"):
        signin.authenticate("alice", GOOD, code(user))


def test_five_failures_lock_until_unlocked(db):
    user = make()
    for _ in range(4):
        with pytest.raises(SignInRefused) as info:
            signin.authenticate("alice", "wrong password", code(user))
        assert info.value.reason == "credentials"
    with pytest.raises(SignInRefused) as info:
        signin.authenticate("alice", "wrong password", code(user))
    assert info.value.reason == "locked"
    assert "administrator" in str(info.value)
    # The right password does not open a locked account.
    with pytest.raises(SignInRefused) as info:
        signin.authenticate("alice", GOOD, code(user))
    assert info.value.reason == "locked"
    users.unlock(User.get_by_id(user.id), by="admin")
    assert signin.authenticate("alice", GOOD, code(user)).username == "alice"
    assert "account_locked" in actions() and "account_unlocked" in actions()


def test_failures_older_than_15_minutes_do_not_count(db):
    user = make()
    old = utcnow() - dt.timedelta(minutes=20)
    for _ in range(4):
        with pytest.raises(SignInRefused):
            signin.authenticate("alice", "wrong password", code(user), now=old)
    with pytest.raises(SignInRefused) as info:
        signin.authenticate("alice", "wrong password", code(user))
    assert info.value.reason == "credentials"
    assert not User.get_by_id(user.id).locked


def test_idle_90_days_disabled(db):
    user = make()
    User.update(last_login_at=utcnow() - dt.timedelta(days=91)).where(User.id == user.id).execute()
    with pytest.raises(SignInRefused) as info:
        signin.authenticate("alice", GOOD, code(user))
    assert info.value.reason == "disabled"
    users.unlock(User.get_by_id(user.id), by="admin")
    assert signin.authenticate("alice", GOOD, code(user))


def test_disable_idle_accounts_sweep(db):
    make("old")
    make("new")
    User.update(created_at=utcnow() - dt.timedelta(days=100)).where(User.username == "old").execute()
    assert signin.disable_idle_accounts() == ["old"]


def test_demo_admin_created_once(db, datadir):
    printed = []
    creds = ensure_demo_admin(datadir.root, echo=printed.append)
    assert creds["username"] == "demo-admin" and creds["otpauth_uri"].startswith("otpauth://totp/")
    path = datadir.root / "demo-credentials.txt"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert creds["password"] in path.read_text() and creds["password"] in printed[0]
    user = users.get_user("demo-admin")
    assert user.role == "administrator" and users.is_trained(user)
    assert signin.authenticate("demo-admin", creds["password"], pyotp.TOTP(creds["totp_secret"]).now())
    assert ensure_demo_admin(datadir.root, echo=printed.append) is None
    assert len(printed) == 1


def test_one_time_code_cannot_be_replayed(db):
    user = make()
    used = code(user)
    assert signin.authenticate("alice", GOOD, used)
    with pytest.raises(SignInRefused) as info:
        signin.authenticate("alice", GOOD, used)
    assert info.value.reason == "credentials"
    record = AccessRecord.select().order_by(AccessRecord.id.desc()).first()
    assert "already used" in record.detail


def test_code_from_the_previous_step_accepted_once(db):
    import pyotp as _pyotp

    user = make()
    previous = _pyotp.TOTP(user.totp_secret).at(utcnow().replace(tzinfo=dt.UTC) - dt.timedelta(seconds=30))
    assert signin.code_step(user, previous) is not None
    assert signin.code_step(user, "12345") is None
