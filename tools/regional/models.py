"""The regional server's schema (peewee): reads, images, hotlists, holds and
its own access record. SQLite by default; PostgreSQL from a database URL
(`postgresql://user:pw@host/db`) through playhouse.db_url for a large region.
"""

from __future__ import annotations

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
    TextField,
)
from playhouse.db_url import connect

from gateway.store.models import utcnow

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


def open_regional(url_or_path: str | Path):
    """Open the server database: a path means SQLite, else a playhouse.db_url URL."""
    text = str(url_or_path)
    if "://" in text:
        db = connect(text)
    else:
        from peewee import SqliteDatabase

        Path(text).parent.mkdir(parents=True, exist_ok=True)
        db = SqliteDatabase(
            text,
            pragmas={"journal_mode": "wal", "synchronous": "full", "busy_timeout": 10_000,
                     "foreign_keys": 1},
            check_same_thread=False,
        )
    database.initialize(db)
    db.connect(reuse_if_open=True)
    db.create_tables(ALL, safe=True)
    return db
