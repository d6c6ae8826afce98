"""`read.revision`: raised each time a later burst of the same pass revises a stored read.

A revised read is sent to the regional server again (which replaces its copy by uid); the
uploader marks a read's data sent only if its revision is still the one it sent, so that a
revision made while the old data was on the way is not marked sent with it.

Plain `ALTER TABLE ... ADD COLUMN` with a default, as in m0003; a database made new by
m0001 already has the column.
"""

from __future__ import annotations


def up(db):
    if "revision" not in {c.name for c in db.get_columns("read")}:
        db.execute_sql('ALTER TABLE "read" ADD COLUMN "revision" INTEGER NOT NULL DEFAULT 0')


def down(db):
    if "revision" in {c.name for c in db.get_columns("read")}:
        db.execute_sql('ALTER TABLE "read" DROP COLUMN "revision"')
