"""A data folder, database or configuration the environment broke: a named error with the path and
what to do, never a traceback; the old hotlist survives a full disk."""

from __future__ import annotations

import errno

import pytest

from gateway.config import Config
from gateway.errors import ConfigError
from gateway.hotlist.importer import HotlistImportError, import_file
from gateway.store.db import DatabaseFileError, open_database
from gateway.store.models import HotlistEntry
from tools.cli import main as cli


def test_a_database_path_that_cannot_be_opened_names_it_and_the_remedy(tmp_path):
    # What a read-only data folder gives too ('unable to open database file'); as root a chmod
    # would not stop SQLite, a folder in the file's place does.
    (tmp_path / "alpr.db").mkdir()
    with pytest.raises(DatabaseFileError, match=r"alpr\.db: check that it is a file.*writable"):
        open_database(tmp_path / "alpr.db")


@pytest.mark.parametrize("content", [b"\x93garbage" * 600, b"SQLite format 3\x00" + b"\x10" * 3000])
def test_garbage_or_truncated_database_says_damaged_and_where_the_backups_are(tmp_path, content):
    (tmp_path / "alpr.db").write_bytes(content)
    with pytest.raises(DatabaseFileError, match=r"damaged or is not an alpr database.*backups"):
        open_database(tmp_path / "alpr.db")


def test_cli_with_a_damaged_database_exits_1_with_a_message(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "alpr.db").write_bytes(b"not a database at all" * 300)
    assert cli.main(["--data", str(data), "hotlist", "lists"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("alpr: ") and "Traceback" not in err and "alpr.db" in err


@pytest.mark.parametrize("make,message", [
    (lambda p: p.write_bytes(b"\xff\xfe\x00binary"), "not a text file"),
    (lambda p: p.mkdir(), "is a folder, not a file"),
])
def test_binary_config_or_a_folder_in_its_place_is_a_config_error(tmp_path, make, message):
    path = tmp_path / "config.json"
    make(path)
    with pytest.raises(ConfigError, match=message):
        Config.load(path)


def test_out_of_range_override_is_a_config_error_naming_the_option():
    config = Config()
    with pytest.raises(ConfigError, match=r"--port 70000: .*web\.port"):
        config.override("web.port", 70000, "--port")
    config.override("web.port", 8080, "--port")
    assert config.web.port == 8080


def test_full_disk_during_import_keeps_the_old_list(db, tmp_path):
    old = tmp_path / "old.csv"
    old.write_text("plate,state,list,description,expires\nOLD111,CA,svs,old,\n")
    import_file(old, "csv", "svs", username="t")
    # SQLite's page limit fails the insert as a full disk does ('database or disk is full').
    pages = db.execute_sql("PRAGMA page_count").fetchone()[0]
    db.execute_sql(f"PRAGMA max_page_count = {pages + 3}")
    new = tmp_path / "new.csv"
    new.write_text("plate,state,list,description,expires\n"
                   + "".join(f"N{i:06d},CA,svs,a long enough description {i},\n" for i in range(8000)))
    with pytest.raises(HotlistImportError, match="previous list stays active: the disk .* is full"):
        import_file(new, "csv", "svs", username="t")
    assert [e.plate for e in HotlistEntry.select()] == ["OLD111"]


def test_cli_turns_an_untranslated_os_error_into_a_message(tmp_path, capsys, monkeypatch):
    def full(_args):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "x"))

    monkeypatch.setattr("tools.cli.commands.hotlist.do_lists", full)
    assert cli.main(["--data", str(tmp_path / "data"), "hotlist", "lists"]) == 1
    assert "No space left on device; free some space" in capsys.readouterr().err


def test_cli_does_not_hide_programming_errors(tmp_path, monkeypatch):
    monkeypatch.setattr("tools.cli.commands.hotlist.do_lists", lambda _args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cli.main(["--data", str(tmp_path / "data"), "hotlist", "lists"])


def test_an_older_database_gains_the_image_indexes(tmp_path):
    path = tmp_path / "alpr.db"
    db = open_database(path)
    db.execute_sql('DROP INDEX "read_crop_sha256"')
    db.execute_sql('DROP INDEX "read_context_sha256"')
    db.execute_sql("PRAGMA user_version = 4")
    db.close()
    db = open_database(path)
    names = {row[0] for row in db.execute_sql(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'read'")}
    assert {"read_crop_sha256", "read_context_sha256"} <= names
    assert (tmp_path / "backups" / "alpr.v0004.db").exists()
    db.close()


def test_cli_output_cut_short_by_its_reader_ends_quietly():
    """`alpr recognize ... | head`: the reader leaving is no error to report ("alpr: Broken pipe")."""
    import subprocess
    import sys

    script = ("import argparse, sys\n"
              "from tools.cli import main as m\n"
              "def flood(args):\n"
              "    while True:\n"
              "        print('x' * 60)\n"
              "class Parser:\n"
              "    def parse_args(self, argv):\n"
              "        return argparse.Namespace(verbose=0, func=flood, command='flood')\n"
              "m.build_parser = Parser\n"
              "sys.exit(m.main([]))\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.read(10) == b"x" * 10
    proc.stdout.close()
    assert proc.wait(timeout=30) == 141
    assert proc.stderr.read() == b""


def test_an_older_database_gains_the_read_revision_and_keeps_its_reads(tmp_path):
    from _store_helpers import new_read

    from gateway.store.images import ImageStore
    from gateway.store.migrations import m0006_read_revision
    from gateway.store.models import Read
    from gateway.store.reads import save_read

    path = tmp_path / "alpr.db"
    db = open_database(path)
    save_read(new_read("7ABC123"), ImageStore(tmp_path / "images"))
    m0006_read_revision.down(db)  # a car installed before 0006
    db.execute_sql("PRAGMA user_version = 5")
    db.close()
    db = open_database(path)
    assert Read.get().revision == 0  # the old read, at its first revision
    save_read(new_read("7ABC124"), ImageStore(tmp_path / "images"))  # inserts leave it to the default
    assert [r.revision for r in Read.select()] == [0, 0]
    db.close()
