"""`alpr bench ui` in Debian's headless Chromium: every alert it times reaches the screen."""

from __future__ import annotations

import json
import shutil

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

pytest.importorskip("playwright.sync_api")


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian's chromium is not installed (make chromium)")
def test_bench_ui_times_every_alert_it_stores(capsys):
    """Its reads all hit one wanted entry: within the repeat window every read after the first
    was a quiet repeat of the first alert, no banner of its own came, and the bench died waiting
    (a Playwright TimeoutError) at the second alert."""
    from tools.cli.main import main

    assert main(["bench", "ui", "--alerts", "3", "--no-tls", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["alerts"] == 3 and out["alert_to_screen_p95_ms"] > 0
