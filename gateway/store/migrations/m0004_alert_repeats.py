"""Repeat hits joined to the alert they repeat (`alert.repeat_of_id`).

A hit on a hotlist entry whose alert is still open, within
`alerts.repeat_window_s` of its last sighting, is stored as an alert of its
own with status `repeat` and a link to the first one: every hitting read keeps
its alert (evidence, search), but the officer's screen shows a sighting of the
open alert instead of sounding a new one.

Plain `ALTER TABLE ... ADD COLUMN`, as in m0003; a database made new by m0001
already has the column, so it is added only where missing.
"""

from __future__ import annotations

COLUMN = "repeat_of_id"
INDEX = "alert_repeat_of_id"


def up(db):
    if COLUMN not in {c.name for c in db.get_columns("alert")}:
        db.execute_sql(f'ALTER TABLE "alert" ADD COLUMN "{COLUMN}" INTEGER')
    db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "alert" ("{COLUMN}")')


def down(db):
    db.execute_sql(f'DROP INDEX IF EXISTS "{INDEX}"')
    if COLUMN in {c.name for c in db.get_columns("alert")}:
        db.execute_sql(f'ALTER TABLE "alert" DROP COLUMN "{COLUMN}"')
