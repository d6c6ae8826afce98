"""Shared pieces of the upload and regional tests: a PKI, the real reference
server on a loopback port in a thread, and a car data folder with reads."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import threading
from pathlib import Path

from gateway.config import Config
from gateway.datadir import DataDir
from tools.regional import pki
from tools.regional.provision import install_car
from tools.regional.serve import make_server


class RunningServer:
    """The reference regional server in a thread; stop() and start() keep its port."""

    def __init__(self, db: Path, pki_dir: Path, port: int = 0, faults: dict | None = None):
        self.db, self.pki_dir, self.faults = db, pki_dir, dict(faults or {})
        self.port = port
        self.server = None
        self.thread = None

    def start(self) -> RunningServer:
        self.server = make_server(self.db, self.pki_dir, "127.0.0.1", self.port,
                                  test_config={"FAULTS": self.faults})
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)
            self.server = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


def make_pki(tmp_path: Path) -> Path:
    folder = tmp_path / "pki"
    pki.init_ca(folder, ["127.0.0.1", "localhost"])
    return folder


def make_car(tmp_path: Path, pki_dir: Path, url: str, terminal: str = "car-7", **overrides):
    data = DataDir(tmp_path / f"car-{terminal}").ensure()
    bundle = pki.issue_car(pki_dir, terminal)
    overrides.setdefault("retry_base_s", 0.05)
    overrides.setdefault("retry_max_s", 0.5)
    overrides.setdefault("timeout_s", 5.0)
    config = install_car(bundle, data, url, **overrides)
    return data, config


def add_reads(n: int, images: bool = False, start: int = 0) -> list[str]:
    """Store `n` reads through the store's own path; returns their uids."""
    from gateway.store.images import ImageStore
    from gateway.store.models import database
    from gateway.store.reads import NewRead, save_read

    store = ImageStore(Path(database.obj.database).parent / "images")
    base = dt.datetime(2026, 11, 28, 8, 0, 0)
    uids = []
    for i in range(start, start + n):
        jpeg = (b"\xff\xd8fake-jpeg-%d" % i) * 20 if images else None
        new = NewRead(plate=f"7ABC{i:03d}"[-7:], confidence=0.9,
                      seen_at=base + dt.timedelta(seconds=i),
                      candidates=[{"text": f"7ABC{i:03d}"[-7:], "confidence": 0.9}],
                      board_id="sim-1", camera="front", latitude=37.7, longitude=-122.1,
                      crop_jpeg=jpeg, context_jpeg=(jpeg + b"ctx") if jpeg else None)
        uids.append(save_read(new, store, match=False, publish=False).uid)
    return uids


def _query(db: Path, sql: str) -> list[tuple]:
    # A connection of its own, so the running server's binding is left alone.
    con = sqlite3.connect(db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def server_uids(db: Path) -> list[str]:
    """Every uid stored at the server, as a list (not a set) so a duplicate would show."""
    return [u for (u,) in _query(db, "SELECT uid FROM regional_read")]


def server_images(db: Path) -> dict[tuple[str, str], str]:
    rows = _query(db, "SELECT r.uid, i.kind, i.data FROM regional_image i "
                      "JOIN regional_read r ON r.id = i.read_id")
    return {(uid, kind): hashlib.sha256(bytes(data)).hexdigest() for uid, kind, data in rows}


def load_config(data: DataDir) -> Config:
    return Config.load(data.config_file)
