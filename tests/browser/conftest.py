"""The browser tier's shared fixtures: one headless Chromium (Debian's) per module, and a
landscape tablet's page whose console must stay free of JavaScript errors."""

from __future__ import annotations

import pytest
from _web_pages import ConsoleWatch, launch


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        chromium = launch(pw)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, ignore_https_errors=True)
    page = context.new_page()
    watch = ConsoleWatch(page)
    yield page
    context.close()
    assert watch.errors == [], watch.errors
