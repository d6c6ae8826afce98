"""The regional server's schema (peewee): reads, images, hotlists, holds and
its own access record. SQLite by default; PostgreSQL from a database URL
(`postgresql://user:pw@host/db`) through playhouse.db_url for a large region.
"""

from __future__ import annotations

import logging
import sqlite3
import stat
from pathlib import Path

from peewee import (
    BlobField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    PeeweeException,
    TextField,
)
from playhouse.db_url import connect

from gateway.errors import AlprError
from gateway.store.db import create_private
from gateway.store.models import utcnow

logger = logging.getLogger(__name__)

database = DatabaseProxy()


class RegionalModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class RegionalRead(RegionalModel):
    uid = CharField(unique=True)  # the car's idempotency key
    agency = CharField(default="")
    terminal = CharField(index=True)  # from the client certificate, never from the body
    plate = CharField(index=True)
    confidence = FloatField()
    candidates = TextField(default="[]")
    state = CharField(default="")
    seen_at = DateTimeField(index=True)
    board_id = CharField(default="")
    camera = CharField(default="")
    latitude = FloatField(null=True)
    longitude = FloatField(null=True)
    crop_sha256 = CharField(default="")
    context_sha256 = CharField(default="")
    box = TextField(default="")
    frames = IntegerField(default=1)
    received_at = DateTimeField(default=utcnow, index=True)


class RegionalImage(RegionalModel):
    read = ForeignKeyField(RegionalRead, backref="images", on_delete="CASCADE")
    kind = CharField()  # crop | context
    sha256 = CharField()
    data = BlobField()
    received_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("read", "kind"), True),)


class RegionalHold(RegionalModel):
    """Keeps a read past the year: evidence, or a lawful request for records."""

    read = ForeignKeyField(RegionalRead, backref="holds", on_delete="CASCADE")
    case_number = CharField()
    placed_by = CharField(default="")
    placed_at = DateTimeField(default=utcnow)
    lifted_at = DateTimeField(null=True)


class RegionalHotlist(RegionalModel):
    name = CharField(unique=True)
    priority = IntegerField(default=5)
    covert = IntegerField(default=0)
    description = CharField(default="")
    version = CharField()  # the ETag: sha256 of the body
    record_count = IntegerField()
    body = BlobField()  # canonical JSON of the records, served as is
    published_at = DateTimeField(default=utcnow)


class RegionalAccess(RegionalModel):
    """Who did what on the server: uploads, hotlist fetches, refusals, purges."""

    at = DateTimeField(default=utcnow, index=True)
    terminal = CharField(default="")
    remote = CharField(default="")
    action = CharField(index=True)
    detail = TextField(default="")
    outcome = CharField(default="ok")


ALL = [RegionalRead, RegionalImage, RegionalHold, RegionalHotlist, RegionalAccess]


class RegionalDatabaseError(AlprError):
    """The server database cannot be opened; the message names it and what to do."""


def _private_files(path: Path) -> None:
    """The SQLite file (and its WAL and shared-memory files) readable by the server's account
    only: it holds every read of the region, with places and images (policy 462.5(f)). A new
    file is made so; one an earlier version left open to others is closed, with a warning."""
    create_private(path)
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = stat.S_IMODE(part.stat().st_mode)
        except OSError:
            continue  # not there (yet): SQLite gives it the database file's mode
        if not mode & 0o077:
            continue
        try:
            part.chmod(mode & 0o600)
            logger.warning("regional database file %s was open to other local accounts (mode %o): "
                           "closed to 600", part, mode)
        except OSError as exc:
            logger.warning("regional database file %s is open to other local accounts (mode %o) and "
                           "cannot be closed (%s): make it private (chmod 600)", part, mode,
                           exc.strerror)


def open_regional(url_or_path: str | Path):
    """Open the server database: a path means SQLite, else a playhouse.db_url URL.

    A URL of an unknown kind, a missing driver, a server that does not answer or a file that is not
    a database raises RegionalDatabaseError naming the --db value."""
    text = str(url_or_path)
    if "://" in text:
        try:
            db = connect(text)
        except (RuntimeError, ValueError) as exc:
            # playhouse.db_url says RuntimeError for an unknown scheme, ValueError for no name.
            raise RegionalDatabaseError(
                f"--db {text!r}: {exc} Give a SQLite file path, or a URL such as "
                "postgresql://user:password@host/dbname") from None
    else:
        from peewee import SqliteDatabase

        try:
            Path(text).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise RegionalDatabaseError(f"cannot create the folder of {text}: {exc.strerror}; "
                                        "choose another --dir or --db") from None
        _private_files(Path(text))
        db = SqliteDatabase(
            text,
            pragmas={"journal_mode": "wal", "synchronous": "full", "busy_timeout": 10_000,
                     "foreign_keys": 1},
            check_same_thread=False,
        )
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
        db.create_tables(ALL, safe=True)
    except (PeeweeException, sqlite3.DatabaseError) as exc:
        logger.debug("opening the regional database %s failed", text, exc_info=True)
        if not db.is_closed():
            db.close()
        raise RegionalDatabaseError(f"cannot open the regional database {text}: {exc}; check the "
                                    "--db value, that the database server is running and that "
                                    "the file is one this server wrote") from None
    return db
