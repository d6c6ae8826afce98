"""The administrator's and auditor's screens in real headless Chromium: they fit the
car's tablet, landscape and portrait, without a sideways scroll of the whole page."""

from __future__ import annotations

import pytest
from _web_pages import ConsoleWatch, Gateway, SignInPage, launch, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]

playwright_api = pytest.importorskip("playwright.sync_api")

PAGE_WIDER_THAN_SCREEN = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    gw = Gateway(tmp_path_factory.mktemp("web") / "data")
    yield gw
    gw.close()


def test_user_and_access_record_pages_fit_landscape_and_portrait(gateway):
    from gateway.accounts import users

    admin = make_user("chief", role="administrator")
    amy = make_user("amy")
    users.revoke_training(amy, reason="course certificate found to be for another officer", by="chief")
    users.record_training(amy, completed_on=amy.created_at.date(), expires_on=amy.created_at.date().replace(
        year=amy.created_at.year + 1), course="ALPR operator", by="chief")
    with playwright_api.sync_playwright() as pw:
        browser = launch(pw)
        try:
            for width, height in ((1280, 800), (800, 1280)):
                context = browser.new_context(viewport={"width": width, "height": height},
                                              ignore_https_errors=True)
                page = context.new_page()
                watch = ConsoleWatch(page)
                SignInPage(page, gateway.url).sign_in(admin)
                for path in (f"/admin/users/{amy.id}", "/admin/audit", "/admin/users"):
                    page.goto(gateway.url + path)
                    assert page.evaluate(PAGE_WIDER_THAN_SCREEN) <= 0, (width, path)
                context.close()
                assert watch.errors == [], watch.errors
        finally:
            browser.close()
