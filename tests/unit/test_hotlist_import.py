"""Importers for CLEW .tbl, NCIC fixed width and CSV; atomic replacement."""

from __future__ import annotations

import json

import pytest
from _store_helpers import clew_file, gateway_writing, ncic_line

from gateway.hotlist import match
from gateway.hotlist.importer import HotlistImportError, import_file
from gateway.hotlist.records import HotlistFormatError
from gateway.store.models import AccessRecord, HotlistEntry, HotlistList
from tools.cli.main import main


def plates_of(list_name: str) -> set[str]:
    return {e.plate for e in HotlistEntry.select().join(HotlistList)
            .where(HotlistList.name == list_name)}


def test_clew_file_is_imported(db, tmp_path):
    path = clew_file(tmp_path / "svs.tbl", [("ABC123", "CA"), ("7XYZ999", "NV"), ("AB-12", "CA")])
    result = import_file(path, "clew", "svs", username="tech")
    assert result.entries == 3
    assert plates_of("svs") == {"ABC123", "7XYZ999", "AB12"}
    entry = HotlistEntry.get(HotlistEntry.plate == "7XYZ999")
    assert entry.state == "NV" and entry.from_clets and str(entry.incident_date) == "2026-11-01"
    assert entry.extra == {"county": "01"}
    lst = HotlistList.get(HotlistList.name == "svs")
    assert lst.record_count == 3 and lst.from_clets and lst.imported_by == "tech"
    # stolen vehicles from CLETS are not a mere notice; an administrator's priority is kept on re-import
    assert lst.priority == 2
    import_file(path, "clew", "svs", username="tech", priority=3)
    import_file(path, "clew", "svs", username="tech")
    assert HotlistList.get(HotlistList.name == "svs").priority == 3


@pytest.mark.parametrize("count,footer,message", [
    (5, True, "footer counts 5 records but the file holds 2"),
    (None, False, "no 'TOTAL RECORD' footer"),
])
def test_truncated_or_miscounted_clew_is_rejected_and_previous_list_stays(
        db, tmp_path, count, footer, message):
    import_file(clew_file(tmp_path / "old.tbl", [("OLD111", "CA")]), "clew", "svs", username="t")
    bad = clew_file(tmp_path / "svs.tbl", [("NEW111", "CA"), ("NEW222", "CA")], count, footer)
    with pytest.raises(HotlistFormatError, match=message):
        import_file(bad, "clew", "svs", username="t")
    assert plates_of("svs") == {"OLD111"}
    assert [h.entry for h in match.get_matcher().match(["OLD111"])] == ["OLD111"]
    assert AccessRecord.select().where(AccessRecord.outcome == "rejected").count() == 1


def test_bad_clew_record_is_named_by_line(db, tmp_path):
    path = tmp_path / "sfr.tbl"
    path.write_text("DATE11/27/2026 06:00\nABC123  CA0120261101\nGARBAGE\nXYZ999  CA0120261399\n"
                    "TOTAL RECORD 0000003\n")
    with pytest.raises(HotlistFormatError) as err:
        import_file(path, "clew", "sfr", username="t")
    assert "line 3: not a record" in str(err.value)
    assert "line 4" in str(err.value) and "20261399" in str(err.value)
    assert HotlistList.get_or_none(HotlistList.name == "sfr") is None


def test_ncic_extract_is_imported_with_list_types(db, tmp_path):
    path = tmp_path / "ncic.txt"
    path.write_text("\n".join([ncic_line("V", "AB123456"), ncic_line("A", "7KID123"),
                               ncic_line("P", "PLT9")]) + "\n")
    result = import_file(path, "ncic", "ncic", username="t")
    assert result.entries == 3
    amber = HotlistEntry.get(HotlistEntry.plate == "7KID123")
    assert amber.list_code == "A" and amber.description == "AMBER alert"
    assert amber.extra["make"] == "YAMA" and amber.extra["colour"] == "BLK"
    assert str(amber.incident_date) == "2026-05-09"


def test_truncated_ncic_line_is_rejected(db, tmp_path):
    import_file(_ncic(tmp_path, [ncic_line("V", "KEEP1")]), "ncic", "ncic", username="t")
    path = tmp_path / "ncic2.txt"
    path.write_text(ncic_line("V", "NEW1") + "\n" + ncic_line("V", "NEW2")[:30] + "\n")
    with pytest.raises(HotlistFormatError, match="line 2: record is 30 characters"):
        import_file(path, "ncic", "ncic", username="t")
    assert plates_of("ncic") == {"KEEP1"}


def _ncic(tmp_path, lines):
    path = tmp_path / "ncic1.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv_with_patterns_and_expiry(db, tmp_path):
    path = tmp_path / "local.csv"
    path.write_text("plate,state,list,description,expires\n"
                    "7ab 123,ca,local,blue sedan,2099-01-01\n"
                    "?AB1?3,CA,local,partial from witness,\n")
    import_file(path, "csv", "local", username="t")
    entry = HotlistEntry.get(HotlistEntry.plate == "7AB123")
    assert entry.state == "CA" and entry.expires_at.year == 2099 and not entry.is_pattern
    assert HotlistEntry.get(HotlistEntry.plate == "?AB1?3").is_pattern


def test_csv_saved_by_excel_with_a_byte_order_mark_is_imported(db, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfplate,state,list,description,expires\r\n7ABC123,CA,local,van,\r\n")
    assert import_file(path, "csv", "local", username="t").entries == 1
    assert plates_of("local") == {"7ABC123"}


def test_csv_bad_header_and_rows_are_rejected(db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("plate,list\nABC,x\n")
    with pytest.raises(HotlistFormatError, match="line 1: header"):
        import_file(path, "csv", "local", username="t")
    path.write_text("plate,state,list,description,expires\nABC,CA,x,y,2026-13-45\n"
                    "A!C,CA,x,y,\n")
    with pytest.raises(HotlistFormatError) as err:
        import_file(path, "csv", "local", username="t")
    assert "line 2: expires" in str(err.value) and "line 3: plate" in str(err.value)


def test_csv_entries_already_expired_are_left_out(db, tmp_path):
    path = tmp_path / "regional.csv"
    path.write_text("plate,state,list,description,expires\nOLD1,CA,x,y,2000-01-01\n"
                    "NEW1,CA,x,y,\n")
    assert import_file(path, "csv", "regional", username="t").entries == 1
    assert plates_of("regional") == {"NEW1"}


def test_reimport_replaces_the_list_and_refreshes_the_index(db, tmp_path):
    import_file(clew_file(tmp_path / "a.tbl", [("AAA111", "CA")]), "clew", "svs", username="t")
    assert match.get_matcher().match(["AAA111"])
    result = import_file(clew_file(tmp_path / "b.tbl", [("BBB222", "CA")]), "clew", "svs",
                         username="t")
    assert result.replaced == 1
    assert plates_of("svs") == {"BBB222"}
    assert not match.get_matcher().match(["AAA111"])
    assert match.get_matcher().match(["BBB222"])[0].kind == "exact"


def test_unknown_format_and_missing_file(db, tmp_path):
    with pytest.raises(HotlistImportError, match="unknown hotlist format"):
        import_file(tmp_path / "x", "xml", "svs", username="t")
    with pytest.raises(HotlistImportError, match="no such file"):
        import_file(tmp_path / "missing.tbl", "clew", "svs", username="t")


def test_cli_import_and_match_json(tmp_path, capsys):
    data = str(tmp_path / "data")
    path = clew_file(tmp_path / "svs.tbl", [("ABC123", "CA"), ("A8C123", "CA")])
    assert main(["--data", data, "hotlist", "import", str(path), "--format", "clew",
                 "--list", "svs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["entries"] == 2
    assert main(["--data", data, "hotlist", "match", "ABC123", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["plate"] == "ABC123"
    assert out["hits"][0] == {"list": "svs", "entry": "ABC123", "kind": "exact", "quality": 1.0}
    assert out["hits"][1]["entry"] == "A8C123" and out["hits"][1]["kind"] == "fuzzy"
    assert main(["--data", data, "hotlist", "match", "QQQ777", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"plate": "QQQ777", "hits": []}


def test_cli_rejection_exits_1_with_message(tmp_path, capsys):
    path = clew_file(tmp_path / "svs.tbl", [("ABC123", "CA")], count=9)
    assert main(["--data", str(tmp_path / "data"), "hotlist", "import", str(path),
                 "--format", "clew", "--list", "svs"]) == 1
    assert "previous list stays active" in capsys.readouterr().err


@pytest.mark.parametrize("fmt,encoding", [("csv", "utf-16-le"), ("csv", "utf-16-be"),
                                          ("clew", "utf-16-le")])
def test_a_utf16_file_with_a_byte_order_mark_is_imported(db, tmp_path, fmt, encoding):
    # Excel's "Unicode Text" and Windows PowerShell's `>` write UTF-16 with a byte-order mark.
    if fmt == "csv":
        text = "plate,state,list,description\r\n7abc-123,CA,local,Café van\r\n"
    else:
        text = clew_file(tmp_path / "plain.tbl", [("7ABC123", "CA")]).read_text()
    path = tmp_path / f"list.{fmt}"
    path.write_bytes(("\ufeff" + text).encode(encoding))
    assert import_file(path, fmt, "local", username="t").entries == 1
    assert plates_of("local") == {"7ABC123"}
    if fmt == "csv":
        assert HotlistEntry.get(HotlistEntry.plate == "7ABC123").description == "Café van"


@pytest.mark.parametrize("fmt", ["csv", "clew", "ncic"])
def test_a_file_that_is_not_text_is_refused_as_such_and_the_list_stays(db, tmp_path, fmt):
    import_file(clew_file(tmp_path / "old.tbl", [("OLD111", "CA")]), "clew", "local", username="t")
    path = tmp_path / "list.dat"
    # UTF-16 without its byte-order mark; a gzip or zip file holds NULs as well.
    path.write_bytes("plate,state,list,description\n7ABC123,CA,local,van\n".encode("utf-16-le"))
    with pytest.raises(HotlistFormatError, match="line 1: the file holds NUL characters"):
        import_file(path, fmt, "local", username="t")
    assert plates_of("local") == {"OLD111"}


def test_a_clew_file_of_no_records_is_refused_and_the_list_stays(db, tmp_path):
    # Header and a matching 'TOTAL RECORD 0000000' footer: complete-looking, but it would empty
    # the stolen-vehicle list; CSV and NCIC files of no entries are refused the same way.
    import_file(clew_file(tmp_path / "old.tbl", [("OLD111", "CA")]), "clew", "svs", username="t")
    empty = clew_file(tmp_path / "svs.tbl", [])
    with pytest.raises(HotlistFormatError, match="line 2: the file holds no records"):
        import_file(empty, "clew", "svs", username="t")
    assert plates_of("svs") == {"OLD111"}
    assert [h.entry for h in match.get_matcher().match(["OLD111"])] == ["OLD111"]


def test_import_and_wanted_entry_wait_for_a_gateway_write_instead_of_failing(db, datadir, tmp_path):
    # A transaction that read first and then asked for the write lock got "database is locked" at
    # once, without SQLite's busy wait, whenever the gateway was writing at that moment.
    import datetime as dt

    from gateway.hotlist import wanted
    from gateway.store.models import utcnow

    import_file(clew_file(tmp_path / "old.tbl", [("OLD111", "CA")]), "clew", "svs", username="t")
    worker = gateway_writing(datadir.database, 0.5)
    import_file(clew_file(tmp_path / "new.tbl", [("NEW111", "CA")]), "clew", "svs", username="t")
    worker.join()
    assert plates_of("svs") == {"NEW111"}
    worker = gateway_writing(datadir.database, 0.5)
    entry, _ = wanted.add_wanted("HKF1*", reason="robbery", case_number="C-1",
                                 expires_at=utcnow() + dt.timedelta(days=2), username="det1")
    worker.join()
    worker = gateway_writing(datadir.database, 0.5)
    wanted.remove(entry.id, username="det1")
    worker.join()
    assert plates_of("wanted") == set()


def test_a_windows_1252_csv_with_an_ellipsis_is_read_line_for_line(db, tmp_path):
    # Excel on Windows saves "CSV" in Windows-1252, where its autocorrected "…" is byte 0x85:
    # Latin-1 made that NEL, a line break to str.splitlines, and the file was refused with a
    # line 3 that does not exist.
    path = tmp_path / "local.csv"
    path.write_bytes("plate,state,list,description\r\n7ABC123,CA,local,Stolen… café van\r\n"
                     .encode("cp1252"))
    assert import_file(path, "csv", "local", username="t").entries == 1
    assert HotlistEntry.get(HotlistEntry.plate == "7ABC123").description == "Stolen… café van"


def test_an_unbalanced_quote_in_a_csv_is_refused_not_swallowing_the_rest(db, tmp_path):
    # A stray quote made the csv module read every later line into that record's description:
    # a list of three imported as one entry, or, past 128 KiB, a traceback (csv.Error).
    import_file(clew_file(tmp_path / "old.tbl", [("OLD111", "CA")]), "clew", "local", username="t")
    path = tmp_path / "local.csv"
    path.write_text('plate,state,list,description\n7ABC123,CA,local,"stolen van\n'
                    "7ABC124,CA,local,x\n7ABC125,CA,local,y\n")
    with pytest.raises(HotlistFormatError, match="line 2: a quoted field runs on to line 4"):
        import_file(path, "csv", "local", username="t")
    path.write_text('plate,state,list,description\n7ABC123,CA,local,"stolen\n'
                    + "".join(f"7X{i:05d},CA,local,some description\n" for i in range(5000)))
    with pytest.raises(HotlistFormatError, match="line 2: "):
        import_file(path, "csv", "local", username="t")
    assert plates_of("local") == {"OLD111"}
    path.write_text('plate,state,list,description\n7ABC123,CA,local,"a ""quoted"", fine van"\n'
                    "7ABC124,CA,local,x\n")
    assert import_file(path, "csv", "local", username="t").entries == 2


def test_a_file_cannot_replace_the_officers_wanted_list_or_a_synced_one(db, tmp_path):
    # `--list wanted` wiped every officer's entry (reason, case number, expiry) for a file's;
    # a file over a regional list left a local list of that name the sync then refused for good.
    import datetime as dt

    from gateway.hotlist import wanted
    from gateway.store.models import utcnow

    wanted.add_wanted("HKF1*", reason="robbery", case_number="C-1",
                      expires_at=utcnow() + dt.timedelta(days=2), username="det1")
    path = clew_file(tmp_path / "svs.tbl", [("NEW111", "CA")])
    with pytest.raises(HotlistImportError, match="officer-entered"):
        import_file(path, "clew", "wanted", username="t")
    assert plates_of("wanted") == {"HKF1*"}
    HotlistList.create(name="regional-svs", source="regional", priority=2)
    with pytest.raises(HotlistImportError, match="regional server"):
        import_file(path, "clew", "regional-svs", username="t")
    assert HotlistList.get(HotlistList.name == "regional-svs").source == "regional"
