"""`alpr user ...`: the first administrator and scripted accounts."""

from __future__ import annotations

import io
import json

import pyotp

from tools.cli.main import main


def run(capsys, monkeypatch, datadir, *argv, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["--data", str(datadir.root), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_user_add_json_holds_provisioning_uri(capsys, monkeypatch, datadir):
    code, out, _ = run(capsys, monkeypatch, datadir, "user", "add", "Chief", "--role", "administrator",
                       "--trained-until", "2030-01-01", "--clets", "--password-stdin", "--json",
                       stdin="a long admin password\n")
    assert code == 0
    result = json.loads(out)
    assert result["username"] == "chief" and result["role"] == "administrator" and result["clets"]
    assert result["trained_until"] == "2030-01-01"
    totp = pyotp.parse_uri(result["otpauth_uri"])
    assert totp.secret == result["totp_secret"] and result["otpauth_uri"].startswith("otpauth://totp/ALPR:chief")


def test_user_add_bad_password_and_duplicate_are_clear_errors(capsys, monkeypatch, datadir):
    code, _, err = run(capsys, monkeypatch, datadir, "user", "add", "bob", "--role", "officer",
                       "--password-stdin", stdin="password123\n")
    assert code == 1 and "banned" in err
    assert run(capsys, monkeypatch, datadir, "user", "add", "bob", "--role", "officer",
               "--password-stdin", stdin="a fine password\n")[0] == 0
    code, _, err = run(capsys, monkeypatch, datadir, "user", "add", "bob", "--role", "officer",
                       "--password-stdin", stdin="a fine password\n")
    assert code == 1 and "already exists" in err


def test_user_unlock_and_train(capsys, monkeypatch, datadir):
    run(capsys, monkeypatch, datadir, "user", "add", "amy", "--role", "officer", "--password-stdin",
        stdin="a fine password\n")
    from gateway.store.models import User

    User.update(locked=True).where(User.username == "amy").execute()
    code, out, _ = run(capsys, monkeypatch, datadir, "user", "unlock", "amy", "--json")
    assert code == 0 and json.loads(out)["locked"] is False
    code, out, _ = run(capsys, monkeypatch, datadir, "user", "train", "amy", "--until", "2031-05-01", "--json")
    assert code == 0 and json.loads(out)["trained_until"] == "2031-05-01"
    code, _, err = run(capsys, monkeypatch, datadir, "user", "unlock", "nobody")
    assert code == 1 and "no user named" in err


def test_user_add_with_a_past_training_expiry_leaves_no_account(capsys, monkeypatch, datadir):
    code, _, err = run(capsys, monkeypatch, datadir, "user", "add", "late", "--role", "officer",
                       "--trained-until", "2025-01-01", "--password-stdin", stdin="a fine password\n")
    assert code == 1 and "must be after the completion date" in err
    # the name is still free: the failed creation left nothing behind
    assert run(capsys, monkeypatch, datadir, "user", "add", "late", "--role", "officer",
               "--password-stdin", stdin="a fine password\n")[0] == 0


def test_the_data_folder_and_database_are_closed_to_other_accounts(capsys, monkeypatch, datadir):
    import os
    import stat

    datadir.root.chmod(0o755)
    run(capsys, monkeypatch, datadir, "user", "add", "amy", "--role", "officer", "--password-stdin",
        stdin="a fine password\n")
    assert stat.S_IMODE(datadir.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(os.stat(datadir.database).st_mode) & 0o077 == 0


def test_a_password_that_is_not_utf8_is_refused_by_name(capsys, monkeypatch, datadir):
    from gateway.accounts import passwords

    bad = b"a fine password \xff\xfe".decode("utf-8", "surrogateescape")
    code, _, err = run(capsys, monkeypatch, datadir, "user", "add", "amy", "--role", "officer",
                       "--password-stdin", stdin=bad + "\n")
    assert code == 1 and "not valid UTF-8" in err and "Traceback" not in err
    assert passwords.verify_password(passwords.hash_password("a fine password"), bad) is False
