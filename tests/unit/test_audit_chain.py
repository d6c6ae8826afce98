"""The access record's hash chain: intact, changed, removed, concurrent writers."""

from __future__ import annotations

import json
import re
import threading

from gateway.store import audit
from gateway.store.models import AccessRecord, database
from tools.cli.main import main


def fill(n=5):
    return [audit.record("reads.search", username=f"u{i}", query=f"PLATE{i}", purpose="patrol",
                         case_number=f"C-{i}") for i in range(n)]


def test_records_hold_time_user_agency_terminal(db):
    audit.configure("SLPD", "car-7")
    rec = audit.record("logon", username="ofc1")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", rec.at)
    assert (rec.agency, rec.terminal, rec.outcome) == ("SLPD", "car-7", "ok")
    assert rec.prev_hash == audit.GENESIS and len(rec.hash) == 64


def test_intact_chain_verifies(db):
    fill()
    result = audit.verify()
    assert result.ok and result.checked == 5 and result.broken_at_id is None


def test_changed_record_is_detected(db):
    recs = fill()
    database.execute_sql("UPDATE access_record SET query = 'OTHER' WHERE id = ?", (recs[2].id,))
    result = audit.verify()
    assert not result.ok and result.broken_at_id == recs[2].id and "changed" in result.reason
    assert result.checked == 2


def test_removed_record_is_detected(db):
    recs = fill()
    AccessRecord.delete().where(AccessRecord.id == recs[1].id).execute()
    result = audit.verify()
    assert not result.ok and result.broken_at_id == recs[2].id and "removed" in result.reason


def test_removed_tail_is_detected(db):
    recs = fill()
    AccessRecord.delete().where(AccessRecord.id == recs[-1].id).execute()
    result = audit.verify()
    assert not result.ok and "removed" in result.reason


def test_concurrent_writers_never_fork_the_chain(db):
    def worker(n):
        for i in range(15):
            audit.record("view", username=f"w{n}", query=str(i))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = audit.verify()
    assert result.ok and result.checked == 60


def test_cli_verify_exit_codes(tmp_path, capsys):
    data = str(tmp_path / "data")
    assert main(["--data", data, "audit", "verify", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    database.execute_sql("UPDATE access_record SET username = 'x' WHERE id = 1")
    assert main(["--data", data, "audit", "verify", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["broken_at_id"] == 1


def test_cli_list_filters_by_the_account_whose_records_they_are(tmp_path, capsys):
    data = str(tmp_path / "data")
    main(["--data", data, "audit", "verify"])
    audit.record("reads.search", username="off1", query="7AB*")
    audit.record("reads.search", username="off2", query="8XY*")
    capsys.readouterr()
    assert main(["--data", data, "audit", "list", "--of", "OFF1", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["username"] for r in rows} == {"off1"} and rows[0]["query"] == "7AB*"
    listed = AccessRecord.select().order_by(AccessRecord.id.desc()).first()
    assert listed.action == "audit.list" and listed.query == "of=OFF1"
