"""Evidence export: images, JSON record, SHA-256 manifest, chain-of-custody sheet."""

from __future__ import annotations

import hashlib
import json

import pytest
from _store_helpers import clew_file, cli_account, new_read, proof

from gateway.hotlist.importer import import_file
from gateway.store import evidence
from gateway.store.images import ImageStore
from gateway.store.models import AccessRecord
from gateway.store.reads import save_read
from tools.cli.main import main


def _cli_data(tmp_path):
    """A data folder for the `alpr` CLI, its database open and bound here: (folder, images)."""
    from gateway.datadir import DataDir
    from gateway.store.db import open_database

    dd = DataDir(tmp_path / "data").ensure()
    open_database(dd.database)
    return dd.root, ImageStore(dd.images)


def test_export_writes_a_verifiable_folder(db, datadir, tmp_path):
    images = ImageStore(datadir.images)
    import_file(clew_file(tmp_path / "svs.tbl", [("ABC123", "CA")]), "clew", "svs", username="t")
    a = save_read(new_read("ABC123"), images)
    b = save_read(new_read("XYZ789"), images)
    out = tmp_path / "usb" / "case-24-0117"
    summary = evidence.export([a.id, b.id], out, images, username="det1",
                              case_number="24-0117", purpose="homicide investigation",
                              agency="SLPD", terminal="car-1")
    assert summary["reads"] == 2 and not summary["missing_images"]
    record = json.loads((out / "reads.json").read_text())
    assert record["case_number"] == "24-0117" and record["exported_by"] == "det1"
    first = next(r for r in record["reads"] if r["plate"] == "ABC123")
    assert first["alerts"][0]["list"] == "svs" and first["alerts"][0]["history"][0]["step"] == "new"
    assert (out / first["crop_image"]).read_bytes() == b"crop-ABC123"
    manifest = (out / "MANIFEST.sha256").read_text().splitlines()
    listed = {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in manifest}
    assert {"reads.json", "CHAIN_OF_CUSTODY.txt"} <= set(listed)
    assert len([p for p in listed if p.startswith("images/")]) == 4
    for name, digest in listed.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    custody = (out / "CHAIN_OF_CUSTODY.txt").read_text()
    assert "24-0117" in custody and "det1" in custody and "Received by" in custody
    rec = AccessRecord.get(AccessRecord.action == "evidence.export")
    assert rec.case_number == "24-0117" and summary["manifest_sha256"] in rec.detail


def test_export_refuses_a_used_folder_and_unknown_reads(db, datadir, tmp_path):
    images = ImageStore(datadir.images)
    read = save_read(new_read("ABC123"), images)
    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("x")
    with pytest.raises(evidence.ExportError, match="not empty"):
        evidence.export([read.id], used, images, username="d", case_number="c", purpose="p")
    with pytest.raises(evidence.ExportError, match="no stored read with id 77"):
        evidence.export([77], tmp_path / "new", images, username="d", case_number="c", purpose="p")
    with pytest.raises(evidence.ExportError, match="case number and a purpose"):
        evidence.export([read.id], tmp_path / "new", images, username="d", case_number="",
                        purpose="p")


def test_cli_hold_and_export_by_plate(tmp_path, capsys, monkeypatch):
    data, images = _cli_data(tmp_path)
    read = save_read(new_read("7ABC123"), images, match=False)
    boss = cli_account("boss", role="administrator")
    assert main(["--data", str(data), "evidence", "hold", "--reads", str(read.id),
                 "--case", "C-9", *proof(monkeypatch, boss), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["case_number"] == "C-9"
    out = tmp_path / "export"
    assert main(["--data", str(data), "evidence", "export", "--plate", "7AB*", "--case", "C-9",
                 "--purpose", "court", "--out", str(out), *proof(monkeypatch, boss), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reads"] == 1
    assert (out / "MANIFEST.sha256").exists()
    assert main(["--data", str(data), "evidence", "export", "--case", "C-9", "--purpose", "x",
                 "--out", str(tmp_path / "e2")]) == 1
    assert "either --reads" in capsys.readouterr().err
    # listing the holds is an access too, recorded under the account named (or the login)
    assert main(["--data", str(data), "evidence", "holds", "--case", "C-9", "--user", "boss", "--json"]) == 0
    assert [h["read_id"] for h in json.loads(capsys.readouterr().out)] == [read.id]
    viewed = AccessRecord.select().where(AccessRecord.action == "holds_viewed").get()
    assert (viewed.username, viewed.query, viewed.detail) == ("boss", "C-9", "1 holds")


def test_a_full_medium_leaves_nothing_and_the_retry_succeeds(db, datadir, tmp_path, monkeypatch):
    import errno
    from pathlib import Path

    images = ImageStore(datadir.images)
    read = save_read(new_read("ABC123"), images)
    usb = tmp_path / "usb"
    out = usb / "case-1"
    real_write_text = Path.write_text

    def full(self, *args, **kwargs):
        if self.name == "reads.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(evidence.ExportError, match="No space left on device; nothing was left"):
        evidence.export([read.id], out, images, username="d", case_number="c", purpose="p")
    assert list(usb.iterdir()) == []  # no truncated JPEG, no hidden staging folder
    assert not AccessRecord.select().where(AccessRecord.action == "evidence.export").exists()
    monkeypatch.undo()
    summary = evidence.export([read.id], out, images, username="d", case_number="c", purpose="p")
    assert summary["folder"] == str(out) and (out / "MANIFEST.sha256").exists()
    assert [p.name for p in usb.iterdir()] == ["case-1"]


def test_out_that_is_a_file_or_under_a_file_is_refused_by_name(db, datadir, tmp_path):
    images = ImageStore(datadir.images)
    read = save_read(new_read("ABC123"), images)
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    with pytest.raises(evidence.ExportError, match="is a file; --out takes a folder"):
        evidence.export([read.id], afile, images, username="d", case_number="c", purpose="p")
    with pytest.raises(evidence.ExportError, match="is not a folder"):
        evidence.export([read.id], afile / "case", images, username="d", case_number="c", purpose="p")
    assert afile.read_text() == "x"


def test_a_release_to_another_agency_names_who_received_the_media(tmp_path, capsys, monkeypatch):
    # Policy 462.5(d)-(e): a release to another agency is documented like a criminal history
    # log entry: to whom it went is in the access record and on the media's custody sheet.
    data, images = _cli_data(tmp_path)
    read = save_read(new_read("7ABC123"), images, match=False)
    boss = cli_account("boss", role="administrator")
    out = tmp_path / "release"
    argv = ["--data", str(data), "evidence", "export", "--reads", str(read.id), "--case", "C-9",
            "--purpose", "joint robbery task force", "--out", str(out)]
    assert main([*argv, "--released-to", "  ", *proof(monkeypatch, boss)]) == 1
    assert "--released-to is blank" in capsys.readouterr().err and not out.exists()
    assert main([*argv, "--released-to", "Oakland PD, Det. Kim #4411", *proof(monkeypatch, boss),
                 "--json"]) == 0
    done = AccessRecord.get(AccessRecord.action == "evidence.export")
    assert "released to Oakland PD, Det. Kim #4411" in done.detail and done.username == "boss"
    assert json.loads((out / "reads.json").read_text())["released_to"] == "Oakland PD, Det. Kim #4411"
    assert "Released to:   Oakland PD, Det. Kim #4411" in (out / "CHAIN_OF_CUSTODY.txt").read_text()


def test_cli_export_until_a_date_takes_in_that_whole_day(tmp_path, capsys, monkeypatch):
    """`--until 2026-11-28` selects the reads of the 28th too, as `alpr reads search` does."""
    import datetime as dt

    data, images = _cli_data(tmp_path)
    save_read(new_read("7ABC123", seen_at=dt.datetime(2026, 11, 28, 21, 30)), images, match=False)
    save_read(new_read("7ABC124", seen_at=dt.datetime(2026, 11, 29, 0, 0)), images, match=False)
    boss = cli_account("boss", role="administrator")
    out = tmp_path / "export"
    assert main(["--data", str(data), "evidence", "export", "--plate", "7ABC12?", "--until", "2026-11-28",
                 "--case", "C-9", "--purpose", "court", "--out", str(out),
                 *proof(monkeypatch, boss), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reads"] == 1
    assert [r["plate"] for r in json.loads((out / "reads.json").read_text())["reads"]] == ["7ABC123"]
