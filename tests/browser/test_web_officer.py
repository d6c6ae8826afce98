"""The officer's screen in real headless Chromium (Debian's), driven by Playwright.

One gateway UI (HTTPS, self-signed certificate made on first run) serves the
whole module; reads are pushed through the real store as recognition would.
"""

from __future__ import annotations

import datetime as dt

import pytest
from _web_pages import ARTIFACTS, ConsoleWatch, Gateway, SignInPage, make_user

pytestmark = [pytest.mark.browser, pytest.mark.slow]

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    # the module signs in a dozen times within a minute from one address: more than the
    # per-address rate limit allows (tested in tests/unit/test_web_auth.py)
    gw = Gateway(tmp_path_factory.mktemp("web") / "data", test_config={"LOGIN_RATE": (30, 60.0)})
    yield gw
    gw.close()


def _wanted(plate, reason="stolen vehicle", case="24-0001"):
    from gateway.hotlist.wanted import add_wanted

    return add_wanted(plate, reason=reason, case_number=case,
                      expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=2),
                      username="dispatch")[0]


def test_alert_pushed_acknowledged_verified(gateway, page):
    officer = make_user("officer1")
    _wanted("7ABC123")
    SignInPage(page, gateway.url).sign_in(officer)
    assert page.url.endswith("/live")
    page.wait_for_selector("#stream-state:text('live')")
    page.click("#sound-toggle")  # one tap arms the alert sounds
    assert page.inner_text("#sound-toggle") == "Sound on"
    assert page.evaluate("[1, 2, 3, 4].every(p => window.ALPR.sound(p))")
    gateway.save_read("5QRS321")  # an ordinary read appears in the list
    page.wait_for_selector(".read .plate:text('5QRS321')")
    read = gateway.save_read("7ABC123")
    banner = page.wait_for_selector("#banner .banner", state="visible")
    assert "7ABC123" in banner.inner_text() and "wanted" in banner.inner_text()
    page.wait_for_selector(f".read.hit[data-read-id='{read.id}']")
    page.wait_for_selector("#alerts .alert-item")
    # The same car read again: a sighting of the alert on screen, not a second alarm.
    # (ends in `true`: Playwright calls an expression whose value is a function)
    page.evaluate("window.soundsSince = 0; var play = window.ALPR.sound;"
                  " window.ALPR.sound = function (p) { window.soundsSince += 1; return play(p); }; true")
    again = gateway.save_read("7ABC123")
    page.wait_for_selector("#banner .seen-again:text('seen again 1')")
    page.wait_for_selector(f".read.hit[data-read-id='{again.id}']")
    assert page.locator("#alerts .alert-item").count() == 1
    assert "seen again 1" in page.inner_text("#alerts .alert-item")
    assert page.evaluate("window.soundsSince") == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "live-day.png"))
    page.click("#night-toggle")
    assert "night" in page.evaluate("document.documentElement.className")
    page.screenshot(path=str(ARTIFACTS / "live-night.png"))
    page.click("#night-toggle")

    page.click("#banner button.ack")
    page.wait_for_selector("#alert-status:text('acknowledged')")
    page.select_option("#outcome", "confirmed")
    page.fill("#verify-note", "CLETS: stolen, confirmed with dispatch")
    page.click("#verify")
    page.wait_for_selector("#alert-status:text('verified')")
    page.check("#enforcement-form input[value='no']")
    page.click("#enforce")
    page.wait_for_selector("#alert-status:text('enforcement')")
    steps = page.locator("#history li").evaluate_all("els => els.map(e => e.dataset.step)")
    assert steps == ["new", "acknowledged", "verified", "enforcement"]


def test_search_needs_purpose_then_shows_reads(gateway, page):
    officer = make_user("officer2")
    gateway.save_read("4SRC777")
    SignInPage(page, gateway.url).sign_in(officer)
    page.goto(gateway.url + "/search")
    page.fill("#plate", "4SRC*")
    page.click("#search")  # purpose is required: the browser refuses to submit
    assert page.locator("#results").count() == 0
    page.fill("#purpose", "burglary investigation")
    page.fill("#case_number", "24-0107")
    page.click("#search")
    page.wait_for_selector("#results tr[data-read-id]")
    assert "4SRC777" in page.inner_text("#results")
    page.click("#results a.plate")
    page.wait_for_selector("h1:has-text('4SRC777')")
    from gateway.store.models import AccessRecord

    actions = {(r.action, r.purpose, r.case_number) for r in
               AccessRecord.select().where(AccessRecord.username == "officer2")}
    assert ("search", "burglary investigation", "24-0107") in actions
    assert ("read_viewed", "burglary investigation", "24-0107") in actions


def test_partial_wanted_plate_matches_past_read(gateway, page):
    officer = make_user("officer3")
    past = gateway.save_read("8XYZ789", seen_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)
                             - dt.timedelta(days=2))
    SignInPage(page, gateway.url).sign_in(officer)
    page.goto(gateway.url + "/hotlists")
    page.click("#new-wanted")
    page.fill("#wanted-plate", "8XY*")
    page.fill("#wanted-reason", "vehicle seen leaving shooting scene")
    page.fill("#wanted-case", "24-0200")
    page.click("#wanted-add")
    page.wait_for_selector("#matches")
    assert page.locator(f"#matches tr[data-read-id='{past.id}']").count() == 1


def test_locked_out_after_five_bad_passwords(gateway, page):
    user = make_user("officer4")
    signin = SignInPage(page, gateway.url)
    for _ in range(4):
        signin.sign_in(user, password="not my password")
        assert "not accepted" in signin.error()
    signin.sign_in(user, password="not my password")
    assert "locked" in signin.error() and "administrator" in signin.error()
    signin.sign_in(user)  # even the right password
    assert "locked" in signin.error()


def test_untrained_user_refused(gateway, page):
    user = make_user("rookie", trained=False)
    signin = SignInPage(page, gateway.url)
    signin.sign_in(user)
    assert "training" in signin.error()
    page.goto(gateway.url + "/live")
    assert page.url.endswith("/login")


def test_portrait_tablet_live_page_fits_the_screen(gateway, browser):
    """At 800 px wide the reads, the open alerts and the banner stack: nothing is cut off or
    needs scrolling sideways."""
    _wanted("8PRT800")
    context = browser.new_context(viewport={"width": 800, "height": 1280}, ignore_https_errors=True)
    try:
        page = context.new_page()
        watch = ConsoleWatch(page)
        SignInPage(page, gateway.url).sign_in(make_user("portrait1"))
        page.wait_for_selector("#stream-state:text('live')")
        gateway.save_read("8PRT800")
        page.wait_for_selector("#banner .banner", state="visible")
        assert page.evaluate("document.documentElement.scrollWidth") <= 800
        assert page.is_hidden("#link-lost")  # the no-connection bar shows only while the stream is down
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "live-portrait.png"))
        assert watch.errors == [], watch.errors
    finally:
        context.close()


def test_disk_warning_bar_follows_the_store(gateway, page):
    """The store's full-disk warning reaches the open live screen, and goes when space is back."""
    from gateway.store import diskspace

    SignInPage(page, gateway.url).sign_in(make_user("diskwatch1"))
    page.wait_for_selector("#stream-state:text('live')")
    assert page.is_hidden("#disk-warning")
    diskspace.warn("the car's disk is full: reads could not be stored")
    page.wait_for_selector("#disk-warning:text('reads could not be stored')", state="visible")
    diskspace.clear_warning()
    page.wait_for_selector("#disk-warning", state="hidden")
