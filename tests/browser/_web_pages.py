"""Browser-test helpers: a real gateway UI in this process, Chromium, page objects."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from pathlib import Path

import cv2
import numpy as np
import pyotp

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def plate_jpeg(text: str, size=(240, 80), context=False) -> bytes:
    """A synthetic plate crop (or a context scene holding it) as JPEG."""
    w, h = (640, 360) if context else size
    img = np.full((h, w, 3), (90, 90, 90) if context else (245, 245, 245), np.uint8)
    if context:
        cv2.rectangle(img, (200, 160), (440, 240), (245, 245, 245), -1)
        org, scale = (215, 215), 1.2
    else:
        org, scale = (12, 56), 1.5
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (20, 20, 120), 3)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


class Gateway:
    """The real WebStage serving HTTPS on a free port, on a real store."""

    def __init__(self, root: Path, tls: bool = True, test_config: dict | None = None):
        from gateway.config import Config
        from gateway.datadir import DataDir
        from gateway.hotlist import match
        from gateway.store.setup import open_store
        from gateway.web.server import WebStage

        self.datadir = DataDir(root).ensure()
        self.config = Config()
        self.config.web.host = "127.0.0.1"
        self.config.web.port = free_port()
        self.config.web.tls = tls
        self.store = open_store(self.datadir, self.config)
        match.reset()
        self.stop = threading.Event()
        self.stage = WebStage(self.config, self.datadir, services={},
                              test_config=test_config or {})
        self.thread = threading.Thread(target=self.stage.run, args=(self.stop,), daemon=True)
        self.thread.start()
        if not self.stage.ready.wait(30):
            raise RuntimeError("the web stage did not start")
        self.url = self.stage.url

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.store.close()

    def save_read(self, plate: str, board: str = "sim-1", seen_at: dt.datetime | None = None):
        """A simulated read through the real store: stored, matched, published."""
        from gateway.store.reads import NewRead, save_read

        return save_read(NewRead(
            plate=plate, confidence=0.93, seen_at=seen_at or dt.datetime.now(dt.UTC).replace(tzinfo=None),
            candidates=[{"text": plate, "confidence": 0.93}], board_id=board, camera="front",
            crop_jpeg=plate_jpeg(plate), context_jpeg=plate_jpeg(plate, context=True), box=[200, 160, 240, 80],
        ), self.store.images)


def make_user(name: str, role: str = "officer", trained: bool = True, clets: bool = True):
    from gateway.accounts import users

    until = dt.date.today() + dt.timedelta(days=60) if trained else None
    return users.create_user(name, PASSWORD, role, trained_until=until, clets=clets)


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


class ConsoleWatch:
    """Collects console errors and page errors; a test ends by asserting none."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", lambda msg: self.errors.append(f"console: {msg.text}")
                if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))


class SignInPage:
    def __init__(self, page, base: str):
        self.page = page
        self.base = base

    def sign_in(self, user, password: str = PASSWORD, code: str | None = None) -> None:
        self.page.goto(self.base + "/login")
        self.page.fill("#username", user.username)
        self.page.fill("#password", password)
        self.page.fill("#code", code if code is not None else pyotp.TOTP(user.totp_secret).now())
        self.page.click("#signin")
        self.page.wait_for_load_state("domcontentloaded")

    def error(self) -> str:
        return self.page.inner_text("#signin-error")
