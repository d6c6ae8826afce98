"""Matching: exact, wildcard, partial, OCR confusions, one missing or extra character."""

from __future__ import annotations

import datetime as dt

import pytest
from _store_helpers import clew_file, new_read

from gateway.hotlist import match
from gateway.hotlist.importer import import_file
from gateway.hotlist.plates import fold, normalize
from gateway.hotlist.wanted import WantedError, add_wanted
from gateway.store.images import ImageStore
from gateway.store.models import AccessRecord, HotlistList, utcnow
from gateway.store.reads import save_read

LATER = utcnow() + dt.timedelta(days=30)


@pytest.fixture
def lists(db, tmp_path):
    import_file(clew_file(tmp_path / "svs.tbl", [("ABC123", "CA"), ("8OB550", "CA"),
                                                 ("7TRK42", "NV")]), "clew", "svs", username="t")
    import_file(clew_file(tmp_path / "sfr.tbl", [("ABC123", "CA")]), "clew", "sfr",
                username="t", priority=1)
    return db


def kinds(candidates):
    return [(h.list, h.entry, h.kind) for h in match.get_matcher().match(candidates)]


def test_normalize_and_fold():
    assert normalize(" 7ab-123 ") == "7AB123"
    assert fold("O0DQ") == fold("0000")
    assert fold("8B") == fold("88") and fold("5S") == fold("55") and fold("1IL") == fold("111")
    assert fold("ABC") != fold("XYZ")


def test_exact_hit_on_every_list_priority_breaks_ties(lists):
    hits = match.get_matcher().match(["ABC123"])
    assert [(h.list, h.kind, h.quality) for h in hits] == [("sfr", "exact", 1.0),
                                                           ("svs", "exact", 1.0)]


@pytest.mark.parametrize("candidate,entry", [
    ("A8C123", "ABC123"),   # 8/B
    ("ABC1Z3", "ABC123"),   # 2/Z
    ("BOBSSO", "8OB550"),   # 8/B, 5/S, 0/O all at once
    ("7TRK4Z", "7TRK42"),
    ("ABCI23", "ABC123"),   # 1/I
])
def test_confused_characters_match_fuzzy(lists, candidate, entry):
    hits = match.get_matcher().match([candidate])
    assert any(h.entry == entry and h.kind == "fuzzy" and h.quality < 1.0 for h in hits)


@pytest.mark.parametrize("candidate", ["ABC12", "BC123", "ABC1234", "XABC123", "AB0C123"])
def test_one_missing_or_extra_character_matches_fuzzy(lists, candidate):
    hits = match.get_matcher().match([candidate])
    assert ("svs", "ABC123", "fuzzy") in [(h.list, h.entry, h.kind) for h in hits]


def test_two_differences_do_not_match(lists):
    assert kinds(["ABC9"]) == []
    assert kinds(["XYZ123"]) == []
    assert kinds(["ABC12399"]) == []


def test_exact_outranks_fuzzy_across_candidates(lists):
    hits = match.get_matcher().match(["A8C123", "ABC123"])
    assert hits[0].kind == "exact" and hits[0].matched_text == "ABC123"
    assert all(h.quality <= hits[0].quality for h in hits)


def test_wildcard_and_partial_entries(lists):
    add_wanted("7AB*", reason="robbery", case_number="C-1", expires_at=LATER, username="o")
    add_wanted("?XY1?3", reason="witness", case_number="C-2", expires_at=LATER, username="o")
    assert kinds(["7AB9912"]) == [("wanted", "7AB*", "wildcard")]
    assert kinds(["QXY193"]) == [("wanted", "?XY1?3", "wildcard")]
    assert kinds(["QXY19"]) == []
    hits = match.get_matcher().match(["7A8991"])  # confused character inside the known part
    assert hits and hits[0].kind == "wildcard" and hits[0].quality < 0.8


def test_expired_entries_do_not_match(lists):
    soon = utcnow() + dt.timedelta(seconds=1)
    add_wanted("EXP123", reason="r", case_number="c", expires_at=soon, username="o")
    assert kinds(["EXP123"]) == [("wanted", "EXP123", "exact")]
    assert match.get_matcher().match(["EXP123"], now=soon + dt.timedelta(seconds=1)) == []


def test_wanted_entry_checks_stored_reads(lists, datadir):
    images = ImageStore(datadir.images)
    old = save_read(new_read("6MNP482"), images)
    save_read(new_read("6MNP4B2"), images)
    save_read(new_read("ZZZ999"), images)
    entry, found = add_wanted("6MNP482", reason="hit and run", case_number="24-0117",
                              expires_at=LATER, username="ofc1")
    assert entry.reason == "hit and run" and entry.entered_by == "ofc1"
    assert [(r.plate, kind) for r, kind, _ in found] == [("6MNP482", "exact"), ("6MNP4B2", "fuzzy")]
    assert found[0][0].id == old.id
    searches = AccessRecord.select().where(AccessRecord.action == "reads.search")
    assert searches.count() == 1 and searches[0].case_number == "24-0117"


def test_wanted_entry_needs_reason_case_and_future_expiry(lists):
    with pytest.raises(WantedError, match="reason and a case number"):
        add_wanted("ABC*", reason="", case_number="c", expires_at=LATER, username="o")
    with pytest.raises(WantedError, match="already past"):
        add_wanted("ABC*", reason="r", case_number="c", expires_at=dt.datetime(2000, 1, 1),
                   username="o")
    with pytest.raises(WantedError, match="not 1-10 letters"):
        add_wanted("***", reason="r", case_number="c", expires_at=LATER, username="o")


def test_wanted_state_is_checked_as_the_csv_import_checks_it(lists):
    # 'california' was stored as 'CALIFORNIA', which no CSV import would have let in.
    with pytest.raises(WantedError, match="state 'california' is not a two-letter code"):
        add_wanted("7AB1", reason="r", case_number="c", expires_at=LATER, username="o",
                   state="california")
    assert not HotlistList.select().where(HotlistList.name == "wanted").exists()
    entry, _ = add_wanted("7AB1", reason="r", case_number="c", expires_at=LATER, username="o",
                          state=" nv ")
    assert entry.state == "NV"


def test_covert_list_hit_is_marked(lists, tmp_path):
    import_file(clew_file(tmp_path / "cov.tbl", [("COV123", "CA")]), "clew", "task",
                username="t", covert=True)
    hit = match.get_matcher().match(["COV123"])[0]
    assert hit.covert and HotlistList.get(HotlistList.name == "task").covert


def test_match_entry_agrees_with_the_index(lists):
    for plate, cands in [("ABC123", ["ABC123"]), ("ABC123", ["A8C123"]), ("ABC123", ["ABC12"]),
                         ("ABC123", ["XABC123"]), ("7AB*", ["7AB1"])]:
        assert match.match_entry(plate, "*" in plate, cands) is not None
    assert match.match_entry("ABC123", False, ["XYZ999"]) is None


def test_shortened_key_filter_has_no_false_negatives():
    import random

    from gateway.hotlist.match import Matcher
    from gateway.hotlist.plates import fold

    rng = random.Random(5)
    alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    keys = {fold("".join(rng.choices(alphabet, k=rng.randint(2, 10)))) for _ in range(3000)}
    m = Matcher()
    m._fold = {key: i for i, key in enumerate(keys)}
    m._build_shortened_filter()
    for key in keys:
        for i in range(len(key)):
            assert m._may_be_shortened(key[:i] + key[i + 1:]), (key, i)
    # An entry added later is covered too, and unrelated keys are mostly filtered out.
    m._plates, m._list_of = [], __import__("array").array("i")
    m._add(99, "QX7QX7QX", 1, False, None)
    assert m._may_be_shortened(fold("QX7QX7X"))
    misses = sum(m._may_be_shortened(fold("".join(rng.choices(alphabet, k=7)))) for _ in range(2000))
    assert misses < 200


def test_cli_wanted_entry_given_a_date_matches_through_that_day(db, datadir, capsys, monkeypatch):
    # `--expires 2026-12-31` means through that day, as a CSV list's `expires` does; taken as
    # midnight, the entry went silent a day early (and today's date was refused as past).
    import json

    from _store_helpers import cli_account, proof

    from tools.cli.main import main

    today = utcnow().date()
    det = cli_account("det1")
    code = main(["--data", str(datadir.root), "hotlist", "add", "HKF123", "--reason", "robbery",
                 "--case", "C-1", "--expires", today.isoformat(), "--json",
                 *proof(monkeypatch, det)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["expires_at"].startswith(f"{today.isoformat()} 23:59:59")
    assert [h.entry for h in match.get_matcher().match(["HKF123"])] == ["HKF123"]


def test_list_sizes_follow_removed_and_expired_entries(lists):
    # `alpr hotlist lists` and the Hotlists page show record_count: removing an officer's entry
    # or purging expired ones left it at the old size.
    from gateway.hotlist import wanted

    first, _ = add_wanted("HKF1*", reason="r", case_number="C-1", expires_at=LATER, username="d")
    add_wanted("HKF2*", reason="r", case_number="C-2", expires_at=LATER, username="d")
    assert HotlistList.get(HotlistList.name == "wanted").record_count == 2
    wanted.remove(first.id, username="d")
    assert HotlistList.get(HotlistList.name == "wanted").record_count == 1
    assert wanted.purge_expired(LATER + dt.timedelta(days=1)) == 1
    assert HotlistList.get(HotlistList.name == "wanted").record_count == 0
