"""Numbered schema migrations (`m0001_initial.py`, ...), each with up()/down().

The applied version is kept in SQLite's `user_version`; the database file is
copied to `<data>/backups/` before any migration runs on an existing schema.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import shutil
from pathlib import Path

from peewee import SqliteDatabase

logger = logging.getLogger(__name__)


def _migrations():
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("m") and info.name[1:5].isdigit():
            found.append((int(info.name[1:5]), importlib.import_module(f"{__name__}.{info.name}")))
    return sorted(found, key=lambda item: item[0])


def current_version(db: SqliteDatabase) -> int:
    return db.execute_sql("PRAGMA user_version").fetchone()[0]


def migrate_to_latest(db: SqliteDatabase, path: Path | None = None) -> int:
    version = current_version(db)
    pending = [(n, m) for n, m in _migrations() if n > version]
    if not pending:
        return version
    if version > 0 and path is not None and path.exists():
        backup_dir = path.parent / "backups"
        backup_dir.mkdir(exist_ok=True)
        target = backup_dir / f"{path.stem}.v{version:04d}{path.suffix}"
        db.execute_sql("PRAGMA wal_checkpoint(FULL)")
        shutil.copy2(path, target)
        logger.info("database backed up to %s before migrating", target)
    for number, module in pending:
        with db.atomic():
            module.up(db)
            db.execute_sql(f"PRAGMA user_version = {number}")
        logger.info("database migrated to version %04d", number)
        version = number
    return version
