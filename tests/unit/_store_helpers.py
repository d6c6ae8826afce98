"""Made-up data for the store, hotlist, audit and retention tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from gateway.store.reads import NewRead


def clew_file(path: Path, plates: list[tuple[str, str]], count: int | None = None,
              footer: bool = True) -> Path:
    """A CLEW .tbl file of (plate, state) records; `count` overrides the footer."""
    lines = ["DATE11/27/2026 06:00"]
    lines += [f"{plate:<8}{state}0120261101" for plate, state in plates]
    if footer:
        lines.append(f"TOTAL RECORD {len(plates) if count is None else count:07d}")
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def ncic_line(code: str, plate: str, state: str = "CA", incident: str = "20260509") -> str:
    line = f"{code}123456789LA0570200{incident}{plate:<10}{state}2009  2009YAMACYL  BLK"
    assert line[19:27] == incident and line[27:37].strip() == plate
    return line


def new_read(plate: str, *candidates: str, seen_at: dt.datetime | None = None,
             crop: bytes | None = b"crop-" , context: bytes | None = b"context-") -> NewRead:
    return NewRead(
        plate=plate, confidence=0.9, seen_at=seen_at or dt.datetime(2026, 11, 28, 9, 0),
        candidates=[{"text": plate, "confidence": 0.9}]
        + [{"text": c, "confidence": 0.5} for c in candidates],
        board_id="board-1", camera="front", latitude=37.72, longitude=-122.15,
        crop_jpeg=None if crop is None else crop + plate.encode(),
        context_jpeg=None if context is None else context + plate.encode(),
    )


PASSWORD = "a fine long password"


def cli_account(name: str = "det1", role: str = "officer", trained: bool = True):
    """An account for the commands that show stored reads (they prove who runs them)."""
    from gateway.accounts import users

    until = dt.date.today() + dt.timedelta(days=30) if trained else None
    return users.create_user(name, PASSWORD, role, trained_until=until)


def proof(monkeypatch, user, password: str = PASSWORD, code: str | None = None) -> list[str]:
    """The options that prove `user` to such a command: the password goes on stdin.

    A one-time code is accepted once; forgetting the last one used stands for the
    30 seconds a person would wait before the next command.
    """
    import io

    import pyotp

    from gateway.accounts.signin import TOTP_LAST_KEY
    from gateway.store.models import Setting

    Setting.delete().where(Setting.key == f"{TOTP_LAST_KEY}{user.id}").execute()
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return ["--user", user.username, "--password-stdin",
            "--otp", code if code is not None else pyotp.TOTP(user.totp_secret).now()]


def gateway_writing(path, seconds: float):
    """Another connection (the running gateway storing a read) holding the write lock a moment."""
    import sqlite3
    import threading

    locked = threading.Event()

    def hold():
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        locked.set()
        threading.Event().wait(seconds)
        conn.execute("COMMIT")
        conn.close()

    worker = threading.Thread(target=hold)
    worker.start()
    locked.wait(5)
    return worker
