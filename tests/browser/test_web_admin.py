"""The administrator's and auditor's screens in real headless Chromium: they fit the
car's tablet, landscape and portrait, without a sideways scroll of the whole page."""

from __future__ import annotations

import datetime as dt

import pytest
from _web_pages import ConsoleWatch, Gateway, SignInPage, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]

playwright_api = pytest.importorskip("playwright.sync_api")

PAGE_WIDER_THAN_SCREEN = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    gw = Gateway(tmp_path_factory.mktemp("web") / "data")
    yield gw
    gw.close()


def test_user_and_access_record_pages_fit_landscape_and_portrait(gateway, browser):
    from gateway.accounts import users

    admin = make_user("chief", role="administrator")
    amy = make_user("amy")
    users.revoke_training(amy, reason="course certificate found to be for another officer", by="chief")
    users.record_training(amy, completed_on=amy.created_at.date(), expires_on=amy.created_at.date().replace(
        year=amy.created_at.year + 1), course="ALPR operator", by="chief")
    for width, height in ((1280, 800), (800, 1280)):
        context = browser.new_context(viewport={"width": width, "height": height}, ignore_https_errors=True)
        page = context.new_page()
        watch = ConsoleWatch(page)
        SignInPage(page, gateway.url).sign_in(admin)
        for path in (f"/admin/users/{amy.id}", "/admin/audit", "/admin/users"):
            page.goto(gateway.url + path)
            assert page.evaluate(PAGE_WIDER_THAN_SCREEN) <= 0, (width, path)
        context.close()
        assert watch.errors == [], watch.errors


def test_a_session_ended_mid_form_gives_the_typed_form_back_after_signing_in(gateway, page):
    import time

    import pyotp

    from gateway.store.models import WebSession, utcnow

    officer = make_user("typist")
    SignInPage(page, gateway.url).sign_in(officer)
    page.goto(gateway.url + "/search")
    page.fill("#purpose", "armed robbery follow-up")
    page.fill("#case_number", "24-0117")
    page.fill("#plate", "7AB*")
    # the hour without use runs out on the gateway while the officer types
    WebSession.update(seen_at=utcnow() - dt.timedelta(hours=2)).where(
        WebSession.user == officer.id).execute()
    page.click("#search")
    page.wait_for_selector("#signin")
    assert "an hour without use" in page.content()
    SignInPage(page, gateway.url).sign_in(
        officer, code=pyotp.TOTP(officer.totp_secret).at(time.time() + 30))
    assert page.url.endswith("/search")
    assert page.input_value("#purpose") == "armed robbery follow-up"
    assert page.input_value("#case_number") == "24-0117" and page.input_value("#plate") == "7AB*"
    # given back once: the next visit of the form is empty
    page.goto(gateway.url + "/search")
    assert page.input_value("#purpose") == ""


def test_a_double_tap_adds_a_wanted_plate_once(gateway, page):
    from gateway.store.models import HotlistEntry

    officer = make_user("doubletap")
    SignInPage(page, gateway.url).sign_in(officer)
    page.goto(gateway.url + "/hotlists/wanted")
    page.fill("#wanted-plate", "9XY*")
    page.fill("#wanted-reason", "hit and run")
    page.fill("#wanted-case", "24-0999")
    # the second tap while the first post is still on its way (a slow gateway)
    page.evaluate("document.getElementById('wanted-add').click();"
                  "window.setTimeout(function () { document.getElementById('wanted-add').click(); }, 5)")
    page.wait_for_selector("#match-count")
    assert HotlistEntry.select().where(HotlistEntry.case_number == "24-0999").count() == 1


def _contrast(fg: str, bg: str) -> float:
    def luminance(rgb: str) -> float:
        channels = [int(x) / 255 for x in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_account_states_are_readable_at_night(gateway, page):
    # "not trained", "locked", "disabled" and a board's "good" are read at arm's length in a dark car
    admin = make_user("nightchief", role="administrator")
    make_user("untrained", trained=False)
    SignInPage(page, gateway.url).sign_in(admin)
    page.evaluate("localStorage.setItem('alpr-night', '1')")
    page.goto(gateway.url + "/admin/users")
    fg, bg = page.evaluate("""() => {
        const el = document.querySelector('tr[data-username=untrained] .health-bad');
        return [getComputedStyle(el).color, getComputedStyle(document.querySelector('table')).backgroundColor];
    }""")
    assert _contrast(fg, bg) >= 4.5, (fg, bg)
    page.goto(gateway.url + f"/admin/users/{admin.id}")
    page.evaluate("""() => document.querySelector('dd').insertAdjacentHTML(
        'beforeend', '<span class="health-ok" id="probe">ok</span>')""")
    fg, bg = page.evaluate("""() => [getComputedStyle(document.getElementById('probe')).color,
        getComputedStyle(document.querySelector('.card')).backgroundColor]""")
    assert _contrast(fg, bg) >= 4.5, (fg, bg)
