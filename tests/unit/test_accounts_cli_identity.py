"""Who runs a command: those that show stored reads act only as a proven, open, trained account
whose role allows it (policy 462.3(d), 462.5(b)); administrative ones name a real account or none."""

from __future__ import annotations

import datetime as dt
import getpass
import io
import json

import pytest
from _store_helpers import PASSWORD, clew_file, cli_account, new_read, proof

from gateway.store.images import ImageStore
from gateway.store.models import AccessRecord, EvidenceHold, LoginFailure, User
from gateway.store.reads import save_read
from tools.cli.commands import _store_cli
from tools.cli.main import main

SEARCH = ["reads", "search", "HKF*", "--purpose", "x", "--case", "1", "--json"]


@pytest.fixture
def data(db, datadir):
    save_read(new_read("HKF1234"), ImageStore(datadir.images), match=False)
    return str(datadir.root)


def run(capsys, data, *argv):
    code = main(["--data", data, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def actions(name: str) -> list[AccessRecord]:
    return list(AccessRecord.select().where(AccessRecord.action == name).order_by(AccessRecord.id))


def test_a_trained_officer_who_proves_it_searches_and_is_recorded_by_name(data, capsys, monkeypatch):
    det = cli_account("det1")
    code, out, _ = run(capsys, data, *SEARCH, *proof(monkeypatch, det))
    assert code == 0 and [r["plate"] for r in json.loads(out)["reads"]] == ["HKF1234"]
    logon, = actions("logon")
    assert logon.username == "det1" and "@cli:" in logon.detail
    assert actions("reads.search")[0].username == "det1"
    # which reads were shown, not only how many (policy 462.5(b))
    shown = json.loads(out)["reads"][0]["id"]
    assert actions("reads.search")[0].detail == f"1 reads: ids {shown}"
    assert User.get_by_id(det.id).last_login_at is not None


def test_untrained_account_is_refused_and_recorded(data, capsys, monkeypatch):
    untrained = cli_account("untrained", trained=False)
    code, out, err = run(capsys, data, *SEARCH, *proof(monkeypatch, untrained))
    assert code == 1 and not out and "training" in err
    refused, = actions("logon_refused")
    assert (refused.username, refused.outcome) == ("untrained", "untrained")
    assert not actions("reads.search")


def test_no_such_account_is_refused_like_a_failed_web_sign_in(data, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("whatever it is\n"))
    code, out, err = run(capsys, data, *SEARCH, "--user", "nobody-at-all", "--password-stdin",
                         "--otp", "123456")
    assert code == 1 and not out and "not accepted" in err
    failed, = actions("logon_failed")
    assert failed.username == "nobody-at-all" and "no such user" in failed.detail
    assert not actions("reads.search")


def test_without_user_the_command_is_refused_and_told_what_to_do(data, capsys):
    code, out, err = run(capsys, data, *SEARCH)
    assert code == 1 and not out
    assert "--user NAME" in err and "--password-stdin" in err and "--otp" in err
    assert not actions("reads.search")


def test_wrong_password_counts_towards_the_lockout(data, capsys, monkeypatch):
    det = cli_account("det1")
    for _ in range(5):
        assert run(capsys, data, *SEARCH, *proof(monkeypatch, det, password="not the password"))[0] == 1
    assert User.get_by_id(det.id).locked
    assert len(actions("logon_failed")) >= 4 and actions("account_locked")
    # now even the right password is refused, with whom to ask
    code, _, err = run(capsys, data, *SEARCH, *proof(monkeypatch, det))
    assert code == 1 and "locked" in err and "administrator" in err
    assert not actions("reads.search")


def test_a_one_time_code_is_accepted_once(data, capsys, monkeypatch):
    det = cli_account("det1")
    options = proof(monkeypatch, det)
    assert run(capsys, data, *SEARCH, *options)[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, _, err = run(capsys, data, *SEARCH, *options)
    assert code == 1 and "accepted once" in err
    assert LoginFailure.select().where(LoginFailure.user == det.id).count() == 1
    assert len(actions("reads.search")) == 1


@pytest.mark.parametrize("role", ["technician", "auditor"])
def test_a_role_that_may_not_search_is_refused_and_recorded(data, capsys, monkeypatch, role):
    tech = cli_account("tech", role=role)
    code, out, err = run(capsys, data, *SEARCH, *proof(monkeypatch, tech))
    assert code == 1 and not out and f"({role}) does not allow" in err
    refused, = actions("access_refused")
    assert refused.username == "tech" and "'search'" in refused.detail
    assert not actions("reads.search")


def test_disabled_or_locked_accounts_are_refused(data, capsys, monkeypatch):
    det = cli_account("det1")
    User.update(disabled=True).where(User.id == det.id).execute()
    code, _, err = run(capsys, data, *SEARCH, *proof(monkeypatch, det))
    assert code == 1 and "disabled" in err
    User.update(disabled=False, locked=True).where(User.id == det.id).execute()
    code, _, err = run(capsys, data, *SEARCH, *proof(monkeypatch, det))
    assert code == 1 and "locked" in err
    assert not actions("reads.search")


def test_at_a_terminal_password_and_code_are_asked_for(data, capsys, monkeypatch):
    import pyotp

    det = cli_account("det1")
    answers = iter([PASSWORD, pyotp.TOTP(det.totp_secret).now()])
    prompts = []
    monkeypatch.setattr(_store_cli, "_interactive", lambda: True)
    monkeypatch.setattr(getpass, "getpass", lambda prompt: prompts.append(prompt) or next(answers))
    code, out, _ = run(capsys, data, *SEARCH, "--user", "det1")
    assert code == 0 and json.loads(out)["reads"]
    assert prompts == ["Password for det1: ", "One-time code: "]


def test_a_script_without_a_terminal_must_pipe_the_password_and_give_the_code(data, capsys, monkeypatch):
    det = cli_account("det1")
    monkeypatch.setattr(_store_cli, "_interactive", lambda: False)
    code, _, err = run(capsys, data, *SEARCH, "--user", "det1")
    assert code == 1 and "--password-stdin" in err
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, _, err = run(capsys, data, *SEARCH, "--user", "det1", "--password-stdin")
    assert code == 1 and "--otp CODE" in err
    assert not actions("logon") and not actions("logon_failed")
    assert not LoginFailure.select().where(LoginFailure.user == det.id).exists()


def test_evidence_holds_and_exports_need_a_proven_administrator(data, capsys, monkeypatch, tmp_path):
    officer = cli_account("det1")
    boss = cli_account("boss", role="administrator")
    hold = ["evidence", "hold", "--reads", "1", "--case", "C-9", "--json"]
    assert "--user NAME" in run(capsys, data, *hold)[2]
    code, _, err = run(capsys, data, *hold, *proof(monkeypatch, officer))
    assert code == 1 and "(officer) does not allow" in err and not EvidenceHold.select().exists()
    assert run(capsys, data, *hold, *proof(monkeypatch, boss))[0] == 0
    assert EvidenceHold.get().placed_by == "boss"
    export = ["evidence", "export", "--case", "C-9", "--purpose", "court", "--reads", "1",
              "--out", str(tmp_path / "usb")]
    code, _, err = run(capsys, data, *export, "--user", "nobody-at-all", "--password-stdin",
                       "--otp", "1")
    assert code == 1 and not (tmp_path / "usb").exists()
    assert run(capsys, data, *export, *proof(monkeypatch, boss), "--json")[0] == 0
    assert actions("evidence.export")[0].username == "boss"
    lift = ["evidence", "lift", "--case", "C-9"]
    assert run(capsys, data, *lift, *proof(monkeypatch, officer))[0] == 1
    assert run(capsys, data, *lift, *proof(monkeypatch, boss))[0] == 0


def test_a_malformed_option_does_not_spend_the_code(data, capsys, monkeypatch):
    boss = cli_account("boss", role="administrator")
    code, _, err = run(capsys, data, "evidence", "export", "--case", "C", "--purpose", "p", "--out", "x",
                       "--reads", "1", "--plate", "HKF*", *proof(monkeypatch, boss))
    assert code == 1 and "either --reads" in err
    assert not actions("logon")


def test_a_new_wanted_entry_shows_stored_reads_only_to_a_proven_account(data, capsys, monkeypatch):
    until = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    add = ["hotlist", "add", "HKF*", "--reason", "robbery", "--case", "C-1", "--expires", until,
           "--json"]
    code, out, err = run(capsys, data, *add, "--user", "untrained")
    assert code == 1 and not out
    det = cli_account("det1")
    code, out, _ = run(capsys, data, *add, *proof(monkeypatch, det))
    assert code == 0 and json.loads(out)["matching_reads"][0]["plate"] == "HKF1234"
    assert actions("hotlist.add")[0].username == "det1"


def test_administrative_commands_act_as_the_login_or_an_existing_account(data, capsys, monkeypatch,
                                                                        tmp_path):
    path = clew_file(tmp_path / "svs.tbl", [("ABC123", "CA")])
    imp = ["hotlist", "import", str(path), "--format", "clew", "--list", "svs"]
    code, _, err = run(capsys, data, *imp, "--user", "nobody-at-all")
    assert code == 1 and "no such account" in err
    assert not actions("hotlist.import")
    cli_account("Boss", role="administrator")
    assert run(capsys, data, *imp, "--user", "BOSS")[0] == 0
    assert run(capsys, data, "retention", "run")[0] == 0
    assert run(capsys, data, "retention", "run", "--user", "ghost")[0] == 1
    code, _, err = run(capsys, data, "user", "train", "boss", "--until", "2031-01-01", "--user", "ghost")
    assert code == 1 and "no such account" in err
    assert run(capsys, data, "user", "train", "boss", "--until", "2031-01-01")[0] == 0
    names = {r.username for r in AccessRecord.select().where(
        AccessRecord.action.in_(["hotlist.import", "retention.purge", "training_recorded"]))}
    assert "boss" in names and any(n.startswith("os:") for n in names)
    assert "ghost" not in names and "nobody-at-all" not in names
