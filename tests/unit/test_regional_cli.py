"""The regional server's commands refuse what would lose reads or fail later: a purge under the
policy's year, a port out of range, an unreadable hotlist file or database URL, a car installed
with a server address that is not one."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tools.cli.main import main
from tools.regional.models import RegionalAccess, RegionalRead, open_regional, utcnow
from tools.regional.retention import RetentionError, purge


@pytest.fixture
def region(tmp_path):
    db = open_regional(tmp_path / "R" / "regional.db")
    RegionalRead.create(uid="a" * 32, terminal="car-1", plate="7ABC123", confidence=0.9,
                        seen_at=utcnow() - dt.timedelta(days=10),
                        received_at=utcnow() - dt.timedelta(days=10))
    yield tmp_path / "R"
    db.close()


@pytest.mark.parametrize("days", [0, -5])
def test_purge_refuses_days_under_one_and_keeps_every_read(region, days):
    with pytest.raises(RetentionError, match="at least 1 day"):
        purge(days=days)
    assert RegionalRead.select().count() == 1


def test_purge_under_the_policy_year_needs_a_recorded_reason(region):
    with pytest.raises(RetentionError, match="--override-policy"):
        purge(days=5)
    assert RegionalRead.select().count() == 1
    assert purge(days=5, override_reason="court order 24-17") == 1
    assert "court order 24-17" in RegionalAccess.get(RegionalAccess.action == "purge").detail


def test_cli_purge_with_negative_days_is_refused_by_argparse(region, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["regional", "purge", "--dir", str(region), "--days", "-5", "--json"])
    assert exit_.value.code == 2 and "too small" in capsys.readouterr().err
    assert main(["regional", "purge", "--dir", str(region), "--days", "5", "--user", "sgt. ruiz"]) == 1
    assert "policy 462.4" in capsys.readouterr().err
    assert RegionalRead.select().count() == 1


@pytest.mark.parametrize("argv", [["regional", "serve", "--port", "70000"],
                                  ["run", "--port", "70000", "--no-tls"],
                                  ["run", "--port", "0"]])
def test_ports_out_of_range_are_refused(argv, capsys):
    with pytest.raises(SystemExit):
        main(argv)
    assert "is not a TCP port: 1 to 65535" in capsys.readouterr().err


@pytest.mark.parametrize("make,message", [
    (None, "no such file"),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe"), "not a text CSV file"),
])
def test_publish_hotlist_bad_file_is_a_message(tmp_path, capsys, make, message):
    path = tmp_path / "list.csv"
    if make:
        make(path)
    assert main(["regional", "publish-hotlist", "--dir", str(tmp_path / "R"), "svs", str(path)]) == 1
    err = capsys.readouterr().err
    assert message in err and "nothing was published" in err


def test_publish_hotlist_unknown_database_url_is_a_message(tmp_path, capsys):
    path = tmp_path / "list.csv"
    path.write_text("plate\n7ABC123\n")
    assert main(["regional", "publish-hotlist", "--dir", str(tmp_path), "--db", "garbage://x",
                 "svs", str(path)]) == 1
    assert "--db 'garbage://x'" in capsys.readouterr().err


def test_issue_car_refuses_a_server_url_that_is_not_https(tmp_path, capsys):
    data = tmp_path / "car"
    assert main(["--data", str(data), "regional", "issue-car", "--dir", str(tmp_path / "R"), "car-8",
                 "--install", "--server-url", "notaurl"]) == 1
    assert "not an https URL" in capsys.readouterr().err
    assert not (data / "config.json").exists()


def test_missing_ca_advice_names_the_real_option(tmp_path, capsys):
    assert main(["regional", "issue-car", "--dir", str(tmp_path / "R"), "car-8", "--json"]) == 1
    err = capsys.readouterr().err
    assert f"alpr regional init --dir {tmp_path / 'R'}" in err and "--pki" not in err


def test_serve_port_0_still_means_any_free_port():
    from tools.cli.main import build_parser

    assert build_parser().parse_args(["regional", "serve", "--port", "0"]).port == 0


def test_revoke_says_how_many_certificates_of_the_car_were_revoked(tmp_path, capsys):
    import json

    r = str(tmp_path / "R")
    assert main(["regional", "init", "--dir", r, "--json"]) == 0
    for _ in range(2):
        assert main(["regional", "issue-car", "--dir", r, "car-7", "--json"]) == 0
    capsys.readouterr()
    assert main(["regional", "revoke", "--dir", r, "car-7", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["revoked"] == 2 and len(out["revoked_serials"]) == 2


def _json(capsys):
    import json

    return json.loads(capsys.readouterr().out)


def test_a_hold_at_the_center_survives_the_purge_until_lifted_all_by_name(region, capsys):
    RegionalRead.create(uid="b" * 32, terminal="car-1", plate="7XYZ999", confidence=0.9,
                        seen_at=dt.datetime(2026, 3, 1, 12), received_at=utcnow() - dt.timedelta(days=10))
    r = ["--dir", str(region)]
    assert main(["regional", "hold", *r, "--case", "24-17", "--reason", "homicide",
                 "--reads", "a" * 32, "--user", "Det. Lee", "--json"]) == 0
    assert _json(capsys)["held"] == 1
    assert main(["regional", "hold", *r, "--case", "24-17", "--reason", "homicide",
                 "--plate", "7xyz*", "--since", "2026-03-01", "--until", "2026-03-02",
                 "--user", "Det. Lee", "--json"]) == 0
    assert _json(capsys)["held"] == 1
    assert main(["regional", "purge", *r, "--days", "5", "--override-policy", "order 9",
                 "--user", "Sgt. Ruiz", "--json"]) == 0
    assert _json(capsys)["purged"] == 0
    assert RegionalRead.select().count() == 2
    assert main(["regional", "lift", *r, "--case", "24-17", "--user", "Det. Lee", "--json"]) == 0
    assert _json(capsys)["lifted"] == 2
    assert purge(days=5, override_reason="order 9", user="Sgt. Ruiz") == 2
    who = [(a.action, a.terminal, a.remote) for a in RegionalAccess.select().order_by(RegionalAccess.id)]
    assert who == [("hold", "Det. Lee", "console")] * 2 + [("purge", "Sgt. Ruiz", "console"),
                   ("lift", "Det. Lee", "console"), ("purge", "Sgt. Ruiz", "console")]
    assert "a" * 32 in RegionalAccess.get(RegionalAccess.action == "hold").detail


def test_a_hold_until_a_date_takes_in_the_reads_of_that_day(region, capsys):
    # "--until 2026-03-02" ended at that day's first moment: its reads went unheld, to be purged
    RegionalRead.create(uid="c" * 32, terminal="car-1", plate="7XYZ998", confidence=0.9,
                        seen_at=dt.datetime(2026, 3, 2, 21, 30), received_at=utcnow())
    RegionalRead.create(uid="d" * 32, terminal="car-1", plate="7XYZ997", confidence=0.9,
                        seen_at=dt.datetime(2026, 3, 3, 0, 0), received_at=utcnow())
    assert main(["regional", "hold", "--dir", str(region), "--case", "24-18", "--reason", "robbery",
                 "--plate", "7XYZ99?", "--since", "2026-03-02", "--until", "2026-03-02",
                 "--user", "Det. Lee", "--json"]) == 0
    assert _json(capsys)["held"] == 1


def test_hold_refuses_unknown_uids_and_a_blank_user(region, capsys):
    r = ["--dir", str(region), "--case", "C1", "--reason", "x"]
    assert main(["regional", "hold", *r, "--reads", "f" * 32, "--user", "Det. Lee"]) == 1
    assert "no read with uid" in capsys.readouterr().err
    assert main(["regional", "hold", *r, "--reads", "a" * 32, "--user", " "]) == 1
    assert "--user" in capsys.readouterr().err
    assert main(["regional", "hold", *r, "--user", "Det. Lee"]) == 1
    assert RegionalAccess.select().count() == 0
    with pytest.raises(SystemExit):
        main(["regional", "lift", "--dir", str(region), "--case", "C1"])


def test_the_reads_held_for_a_case_are_exported_to_portable_media_by_name(region, tmp_path, capsys):
    # Policy 462.4: held data is "downloaded from the NCRIC server onto portable media and
    # booked into evidence"; the car keeps a delivered read only days, so the center must.
    import hashlib

    from tools.regional.models import RegionalImage

    read = RegionalRead.get()
    crop = b"\xff\xd8crop-7ABC123"
    read.crop_sha256 = hashlib.sha256(crop).hexdigest()
    read.save()
    RegionalImage.create(read=read, kind="crop", sha256=read.crop_sha256, data=crop)
    RegionalRead.create(uid="c" * 32, terminal="car-2", plate="7ABC124", confidence=0.9,
                        seen_at=utcnow(), received_at=utcnow())  # not held: not exported
    r = ["--dir", str(region)]
    out = tmp_path / "usb" / "24-17"
    assert main(["regional", "export", *r, "--case", "24-17", "--purpose", "court", "--out", str(out),
                 "--user", "Det. Lee"]) == 1
    assert "no reads are held for case '24-17'" in capsys.readouterr().err and not out.exists()
    assert main(["regional", "hold", *r, "--case", "24-17", "--reason", "homicide",
                 "--reads", "a" * 32, "--user", "Det. Lee"]) == 0
    capsys.readouterr()
    assert main(["regional", "export", *r, "--case", "24-17", "--purpose", "court", "--out", str(out),
                 "--user", "Det. Lee", "--json"]) == 0
    summary = _json(capsys)
    assert summary["reads"] == 1 and summary["missing_images"] == []
    exported = json.loads((out / "reads.json").read_text())
    assert [x["uid"] for x in exported["reads"]] == ["a" * 32]
    assert exported["exported_by"] == "Det. Lee" and exported["case_number"] == "24-17"
    assert (out / exported["reads"][0]["crop_image"]).read_bytes() == crop
    for line in (out / "MANIFEST.sha256").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert "Det. Lee" in (out / "CHAIN_OF_CUSTODY.txt").read_text()
    done = RegionalAccess.get(RegionalAccess.action == "export")
    assert (done.terminal, done.remote) == ("Det. Lee", "console")
    assert "case 24-17" in done.detail and "court" in done.detail and "a" * 32 in done.detail
    assert summary["manifest_sha256"] in done.detail
    assert main(["regional", "export", *r, "--case", "24-17", "--purpose", "court",
                 "--out", str(tmp_path / "x"), "--user", " "]) == 1
    assert "--user" in capsys.readouterr().err
    assert "not released to another agency" in done.detail
    assert main(["regional", "export", *r, "--case", "24-17", "--purpose", "task force",
                 "--out", str(tmp_path / "y"), "--released-to", "Oakland PD, Det. Kim",
                 "--user", "Det. Lee"]) == 0
    released = RegionalAccess.select().where(RegionalAccess.action == "export").order_by(
        RegionalAccess.id.desc()).get()
    assert "released to Oakland PD, Det. Kim" in released.detail
    assert "Oakland PD, Det. Kim" in (tmp_path / "y" / "CHAIN_OF_CUSTODY.txt").read_text()


def test_the_regional_database_is_private_to_the_servers_account(tmp_path, caplog):
    # Policy 462.5(f): the center's SQLite file holds every read of the region; with the
    # usual umask it was made readable by every local account (644).
    import os
    import stat

    def mode(path):
        return stat.S_IMODE(os.stat(path).st_mode)

    new = tmp_path / "R" / "regional.db"
    db = open_regional(new)
    RegionalRead.create(uid="d" * 32, terminal="car-1", plate="7ABC123", confidence=0.9, seen_at=utcnow())
    assert mode(new) == 0o600 and mode(new.parent) == 0o700
    assert mode(new.with_name("regional.db-wal")) == 0o600
    db.close()
    old = tmp_path / "old.db"
    old.touch(mode=0o644)
    os.chmod(old, 0o644)
    open_regional(old).close()
    assert mode(old) == 0o600 and "was open to other local accounts (mode 644)" in caplog.text
