"""An administrator disables an account or revokes training: at once, on record, reversible
only by a deliberate act; revoked training is kept, marked, and gives no access."""

from __future__ import annotations

import datetime as dt
import json

import pyotp
import pytest
from _store_helpers import PASSWORD, cli_account

from gateway.accounts import signin, users
from gateway.accounts.errors import AccountError, SignInRefused
from gateway.store.db import open_database
from gateway.store.migrations import current_version, m0003_training_revoked
from gateway.store.models import AccessRecord, Setting, TrainingRecord, User, utcnow
from tools.cli.main import main


def run(capsys, datadir, *argv):
    code = main(["--data", str(datadir.root), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def sign_in(user):
    # forget the last code used: each sign-in here stands for one 30 seconds later
    Setting.delete().where(Setting.key == f"{signin.TOTP_LAST_KEY}{user.id}").execute()
    return signin.authenticate(user.username, PASSWORD, pyotp.TOTP(user.totp_secret).now())


def last(action: str) -> AccessRecord:
    return AccessRecord.select().where(AccessRecord.action == action).order_by(AccessRecord.id.desc()).get()


def test_cli_disable_keeps_the_account_out_until_enabled(db, datadir, capsys):
    amy = cli_account("amy")
    code, out, _ = run(capsys, datadir, "user", "disable", "amy", "--reason", "left the unit", "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["disabled"] and shown["disabled_reason"] == "left the unit"
    assert shown["disabled_by"].startswith("os:")
    record = last("account_disabled")
    assert record.query == "amy" and "left the unit" in record.detail and record.username.startswith("os:")
    with pytest.raises(SignInRefused) as info:
        sign_in(amy)
    assert info.value.reason == "disabled" and "by an ALPR administrator" in str(info.value)

    # a routine unlock (lockouts, the idle rule) does not undo a deliberate disable
    User.update(locked=True).where(User.id == amy.id).execute()
    code, out, _ = run(capsys, datadir, "user", "unlock", "amy")
    assert code == 0 and "still disabled" in out
    amy = User.get_by_id(amy.id)
    assert not amy.locked and amy.disabled
    code, _, err = run(capsys, datadir, "user", "disable", "amy", "--reason", "again")
    assert code == 1 and "already disabled" in err and "user enable amy" in err

    code, out, _ = run(capsys, datadir, "user", "enable", "amy", "--json")
    assert code == 0 and json.loads(out)["disabled"] is False
    assert "left the unit" in last("account_enabled").detail
    assert sign_in(User.get_by_id(amy.id))
    code, _, err = run(capsys, datadir, "user", "enable", "amy")
    assert code == 1 and "not disabled" in err


def test_disable_needs_a_reason_and_not_your_own_account(db, datadir, capsys):
    cli_account("amy")
    with pytest.raises(SystemExit):
        main(["--data", str(datadir.root), "user", "disable", "amy"])
    assert "--reason" in capsys.readouterr().err
    code, _, err = run(capsys, datadir, "user", "disable", "amy", "--reason", "  ")
    assert code == 1 and "give the reason" in err
    code, _, err = run(capsys, datadir, "user", "disable", "amy", "--reason", "x", "--user", "amy")
    assert code == 1 and "your own account" in err
    code, _, err = run(capsys, datadir, "user", "disable", "nobody", "--reason", "x")
    assert code == 1 and "no user named" in err
    assert not User.get(User.username == "amy").disabled


def test_unlock_still_clears_the_idle_disable(db):
    amy = cli_account("amy")
    signin.disable_idle_accounts(utcnow() + dt.timedelta(days=91))
    amy = User.get_by_id(amy.id)
    assert amy.disabled and amy.disabled_by == users.IDLE_DISABLED_BY and not users.admin_disabled(amy)
    assert users.unlock(amy, by="boss") is None
    assert not User.get_by_id(amy.id).disabled


def test_cli_revoke_training_keeps_the_record_and_takes_access_away(db, datadir, capsys):
    amy = cli_account("amy")
    code, _, err = run(capsys, datadir, "user", "revoke-training", "amy", "--reason", "course not approved",
                       "--user", "amy")
    assert code == 1 and "your own account" in err
    cli_account("boss", role="administrator")
    code, out, _ = run(capsys, datadir, "user", "revoke-training", "amy", "--reason", "course not approved",
                       "--user", "boss", "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["trained_until"] is None and len(shown["revoked_records"]) == 1
    record = TrainingRecord.get(TrainingRecord.user == amy.id)  # kept, not deleted
    assert (record.revoked_by, record.revoked_reason) == ("boss", "course not approved")
    assert record.revoked_at is not None
    audit = last("training_revoked")
    assert (audit.username, audit.query) == ("boss", "amy") and "course not approved" in audit.detail
    assert not users.is_trained(amy)
    with pytest.raises(SignInRefused) as info:
        sign_in(amy)
    assert info.value.reason == "untrained"
    code, _, err = run(capsys, datadir, "user", "revoke-training", "amy", "--reason", "again")
    assert code == 1 and "no unexpired training" in err
    # new training, recorded as any other, gives access again; the revoked record stays
    assert run(capsys, datadir, "user", "train", "amy", "--until", "2031-01-01")[0] == 0
    assert TrainingRecord.select().where(TrainingRecord.user == amy.id).count() == 2
    assert sign_in(User.get_by_id(amy.id))


def test_revoke_training_covers_training_that_has_not_started_yet(db):
    amy = cli_account("amy", trained=False)
    later = dt.date.today() + dt.timedelta(days=10)
    users.record_training(amy, completed_on=later, expires_on=later + dt.timedelta(days=300), by="boss")
    users.revoke_training(amy, reason="forged certificate", by="boss")
    assert not users.is_trained(amy, later + dt.timedelta(days=1))
    with pytest.raises(AccountError, match="give the reason"):
        users.revoke_training(amy, reason="", by="boss")


def _columns(db, table):
    return {c.name for c in db.get_columns(table)}


def test_migration_0003_adds_the_columns_and_keeps_every_row(datadir):
    db = open_database(datadir.database)
    assert current_version(db) >= 3
    amy = cli_account("amy")
    old_hash = amy.password_hash
    # back to the schema before 0003, as on a car installed earlier
    m0003_training_revoked.down(db)
    db.execute_sql("PRAGMA user_version = 1")
    assert "revoked_at" not in _columns(db, "training_record")
    assert "disabled_by" not in _columns(db, "user")
    db.close()

    db = open_database(datadir.database)
    assert current_version(db) >= 3
    assert {"revoked_at", "revoked_by", "revoked_reason"} <= _columns(db, "training_record")
    assert {"disabled_at", "disabled_by", "disabled_reason"} <= _columns(db, "user")
    assert (datadir.database.parent / "backups").is_dir()
    amy = User.get(User.username == "amy")
    assert amy.password_hash == old_hash and amy.disabled_by == ""
    record = TrainingRecord.get(TrainingRecord.user == amy)  # no foreign-key cascade took it
    assert record.revoked_at is None and record.revoked_by == "" and users.is_trained(amy)
    # up() on a database that already has the columns (made new by m0001) changes nothing
    m0003_training_revoked.up(db)
    db.close()
