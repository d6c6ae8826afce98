"""Indexes on read.crop_sha256 and read.context_sha256.

Whether an image file is still used by a read (`diskspace.referenced`, asked for every image a
purge or the full-disk pruning removes) and which files no read names any more (the retention
orphan sweep, one range per `images/<aa>/` folder) were full scans of the read table without
them. The names are the ones peewee gives the model's `index=True`, so a database made new by
m0001 already has them.
"""

from __future__ import annotations

INDEXES = (("read_crop_sha256", "crop_sha256"), ("read_context_sha256", "context_sha256"))


def up(db):
    for name, column in INDEXES:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "read" ("{column}")')


def down(db):
    for name, _column in INDEXES:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
