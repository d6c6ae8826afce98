"""Opening the car's database: SQLite in WAL mode, durable commits, migrations.

`synchronous=FULL` because a read reported stored must survive a power cut
(the read store relaxes it for its own transactions only, which one syncfs
then makes durable: see gateway.store.reads); WAL keeps readers (the UI, the
uploader) off the writer's back.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from peewee import SqliteDatabase

from gateway.store.models import database

logger = logging.getLogger(__name__)

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 10_000,
    "cache_size": -32_000,
}


def open_database(path: Path | str, migrate: bool = True) -> SqliteDatabase:
    """Open (creating if needed) the database at `path` and bind the models to it."""
    _create_private(Path(path))
    db = SqliteDatabase(str(path), pragmas=PRAGMAS, check_same_thread=False)
    database.initialize(db)
    # An index built from another database must never answer for this one.
    from gateway.hotlist import match

    match.reset()
    db.connect(reuse_if_open=True)
    if migrate:
        from gateway.store.migrations import migrate_to_latest

        migrate_to_latest(db, Path(path))
    return db


def _create_private(path: Path) -> None:
    """A new database file readable by its owner only (SQLite gives its WAL and shared-memory files
    the same mode): it holds password hashes, one-time-code secrets and every read."""
    if str(path) == ":memory:" or path.exists():
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError:
        return  # SQLite reports the folder's problem itself, with its own message
