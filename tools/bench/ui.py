"""`alpr bench ui`: from a read being stored to its alert visible in the browser.

Starts the real web stage (HTTPS) on a temporary data folder, signs an
officer in through headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright), and stores reads that hit a wanted entry through the real store.
Each sample runs from the call that stores the read (images written, row
committed, matched, published), so it includes the durable writes, until
the alert's banner is visible.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

from gateway.errors import AlprError
from tools.cli.common import add_json, emit

logger = logging.getLogger(__name__)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PASSWORD = "bench officer password"


class BenchError(AlprError):
    """The benchmark could not run (no browser, server did not start)."""


def register(subparsers) -> None:
    p = subparsers.add_parser("ui", help="read stored -> alert visible in headless Chromium")
    p.add_argument("--alerts", type=int, default=30, help="alerts to time")
    p.add_argument("--chromium", default="/usr/bin/chromium", help="the browser to drive")
    p.add_argument("--no-tls", action="store_true", help="plain HTTP instead of HTTPS")
    add_json(p)
    p.set_defaults(func=run)


def _jpeg(text: str, context: bool = False) -> bytes:
    import cv2
    import numpy as np

    w, h = (640, 360) if context else (240, 80)
    img = np.full((h, w, 3), 235, np.uint8)
    cv2.putText(img, text, (12, h // 2 + 20), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (20, 20, 120), 3)
    return cv2.imencode(".jpg", img)[1].tobytes()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run(args) -> int:
    import pyotp
    from playwright.sync_api import sync_playwright

    from gateway.accounts.users import create_user
    from gateway.config import Config
    from gateway.datadir import DataDir
    from gateway.hotlist import match
    from gateway.hotlist.wanted import add_wanted
    from gateway.store.reads import NewRead, save_read
    from gateway.store.setup import open_store
    from gateway.web.server import WebStage

    if not Path(args.chromium).exists():
        raise BenchError(f"{args.chromium} not found: install Debian's chromium (`make chromium`)")
    with tempfile.TemporaryDirectory(prefix="alpr-bench-ui-") as tmp:
        datadir = DataDir(Path(tmp) / "data").ensure()
        config = Config()
        config.web.host, config.web.port, config.web.tls = "127.0.0.1", _free_port(), not args.no_tls
        # Every timed read hits the one wanted entry: within the repeat window each read after
        # the first would be a quiet repeat of the first alert, with no banner of its own.
        config.alerts.repeat_window_s = 0
        store = open_store(datadir, config)
        match.reset()
        user = create_user("bench-officer", PASSWORD, "officer", clets=True,
                           trained_until=dt.date.today() + dt.timedelta(days=1))
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        add_wanted("BN*", reason="benchmark", case_number="BENCH-1",
                   expires_at=now + dt.timedelta(days=1), username="bench")
        stop = threading.Event()
        stage = WebStage(config, datadir, services={})
        thread = threading.Thread(target=stage.run, args=(stop,), daemon=True)
        thread.start()
        samples: list[float] = []
        store_ms: list[float] = []
        try:
            if not stage.ready.wait(30):
                raise BenchError("the web stage did not start within 30 s")
            crop, context = _jpeg("BN"), _jpeg("BN", context=True)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
                page = browser.new_context(viewport={"width": 1280, "height": 800},
                                           ignore_https_errors=True).new_page()
                page.goto(stage.url + "/login")
                page.fill("#username", user.username)
                page.fill("#password", PASSWORD)
                page.fill("#code", pyotp.TOTP(user.totp_secret).now())
                page.click("#signin")
                page.wait_for_selector("#stream-state:text('live')")
                for i in range(args.alerts):
                    plate = f"BN{i:05d}"
                    start = time.perf_counter()
                    read = save_read(NewRead(
                        plate=plate, confidence=0.95, seen_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
                        candidates=[{"text": plate, "confidence": 0.95}], board_id="bench",
                        crop_jpeg=crop + plate.encode(), context_jpeg=context + plate.encode(),
                    ), store.images)
                    store_ms.append((time.perf_counter() - start) * 1000)
                    page.wait_for_selector(f"#banner .banner[data-read-id='{read.id}']",
                                           state="visible", timeout=10_000)
                    samples.append((time.perf_counter() - start) * 1000)
                    time.sleep(0.1)
                browser.close()
        finally:
            stop.set()
            thread.join(10)
            store.close()
    result = {
        "alerts": len(samples),
        "alert_to_screen_p50_ms": round(statistics.median(samples), 1),
        "alert_to_screen_p95_ms": round(_percentile(samples, 0.95), 1),
        "alert_to_screen_max_ms": round(max(samples), 1),
        # The part of each sample spent storing the read (fsync'd images, durable commits).
        "store_p95_ms": round(_percentile(store_ms, 0.95), 1),
        "tls": not args.no_tls,
    }
    emit(result, args.json,
         f"{len(samples)} alerts: read stored -> alert visible p50 {result['alert_to_screen_p50_ms']} ms, "
         f"p95 {result['alert_to_screen_p95_ms']} ms, max {result['alert_to_screen_max_ms']} ms")
    return 0
