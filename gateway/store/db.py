"""Opening the car's database: SQLite in WAL mode, durable commits, migrations.

`synchronous=FULL` because a read reported stored must survive a power cut
(the read store relaxes it for its own transactions only, which one syncfs
then makes durable: see gateway.store.reads); WAL keeps readers (the UI, the
uploader) off the writer's back.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from peewee import DatabaseError, SqliteDatabase

from gateway.errors import AlprError
from gateway.store.models import database

logger = logging.getLogger(__name__)

PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 10_000,
    "cache_size": -32_000,
}


class DatabaseFileError(AlprError):
    """The database file cannot be opened, read or written; the message says what to do."""


def problem(exc: BaseException, path: Path | str) -> str:
    """What went wrong with the database at `path` and what to do about it, in words a technician
    can act on. SQLite's own messages ('unable to open database file') name neither the file nor a
    remedy. A failed rollback ('cannot rollback') hides the real cause in the exception's context,
    so the chain is searched for the first message that is recognised."""
    path = Path(path)
    messages = []
    seen: BaseException | None = exc
    while seen is not None and len(messages) < 5:
        messages.append(str(seen).lower())
        seen = seen.__cause__ or seen.__context__
    for text in messages:
        if "disk is full" in text or "no space" in text:
            return (f"the disk holding {path} is full: free some space (delete old exports or "
                    f"backups under {path.parent}) and try again")
        if "readonly" in text or "read-only" in text or "unable to open" in text \
                or "permission" in text:
            return (f"cannot open or write the database {path}: check that it is a file and that "
                    f"the folder {path.parent} is writable by this user (ls -ld), or choose another "
                    "data folder with --data DIR")
        if "not a database" in text or "malformed" in text or "corrupt" in text:
            return (f"{path} is damaged or is not an alpr database ({text}): move it aside "
                    f"(mv {path} {path}.damaged) and restore a copy from {path.parent / 'backups'} "
                    "or the car's last backup; with no copy, the next command starts an empty one")
        if "locked" in text or "busy" in text:
            return (f"the database {path} is locked by another program (a running gateway?): "
                    "stop it or try again in a moment")
    return f"database {path}: {messages[0] if messages else exc}"


def open_database(path: Path | str, migrate: bool = True) -> SqliteDatabase:
    """Open (creating if needed) the database at `path` and bind the models to it.

    A file that cannot be opened or is not a database raises DatabaseFileError naming the file."""
    create_private(Path(path))
    # Every transaction takes the write lock when it begins (BEGIN IMMEDIATE): one that read
    # first and asked for the lock later is refused at once, without the busy wait, whenever
    # another writer (the running gateway storing a read) holds it: an officer's acknowledge
    # or a hold then failed with "database is locked". Transactions here are short writes.
    db = SqliteDatabase(str(path), pragmas=PRAGMAS, check_same_thread=False, lock_type="IMMEDIATE")
    database.initialize(db)
    # An index built from another database must never answer for this one.
    from gateway.hotlist import match

    match.reset()
    try:
        db.connect(reuse_if_open=True)
        if migrate:
            from gateway.store.migrations import migrate_to_latest

            migrate_to_latest(db, Path(path))
    except (DatabaseError, sqlite3.DatabaseError) as exc:
        logger.debug("opening %s failed", path, exc_info=True)
        if not db.is_closed():
            db.close()
        raise DatabaseFileError(problem(exc, path)) from None
    return db


def create_private(path: Path) -> None:
    """A new database file readable by its owner only (SQLite gives its WAL and shared-memory files
    the same mode): it holds password hashes, one-time-code secrets and every read."""
    if str(path) == ":memory:" or path.exists():
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:
        pass  # made meanwhile, or a folder problem that opening the database reports by name
