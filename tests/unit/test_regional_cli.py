"""The regional server's commands refuse what would lose reads: a purge under the policy's year."""

from __future__ import annotations

import datetime as dt

import pytest

from tools.cli.main import main
from tools.regional.models import RegionalAccess, RegionalRead, open_regional, utcnow
from tools.regional.retention import RetentionError, purge


@pytest.fixture
def region(tmp_path):
    db = open_regional(tmp_path / "R" / "regional.db")
    RegionalRead.create(uid="a" * 32, terminal="car-1", plate="7ABC123", confidence=0.9,
                        seen_at=utcnow() - dt.timedelta(days=10))
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
    assert main(["regional", "purge", "--dir", str(region), "--days", "5"]) == 1
    assert "policy 462.4" in capsys.readouterr().err
    assert RegionalRead.select().count() == 1
