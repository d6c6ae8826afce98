"""Revoked training kept for the record; an administrator's disable told apart from an idle one.

`training_record` gains revoked_at/by/reason: a revoked record stays (policy
462.3(d) training is kept at least 3 years) but gives no access. `user` gains
disabled_at/by/reason, so that `unlock` (lockouts and the 90-day idle disable)
cannot quietly undo an account an administrator disabled on purpose.

Plain `ALTER TABLE ... ADD COLUMN`, not playhouse.migrate: adding a NOT NULL
column there rebuilds the table, and dropping the old `user` table with
foreign keys on would cascade-delete every training record and login failure.

m0001 creates tables from the models as declared now, so a database made new
already has these columns; only those missing are added. Nothing here
depends on any other migration but m0001.
"""

from __future__ import annotations

COLUMNS = {
    "training_record": (
        ("revoked_at", "DATETIME"),
        ("revoked_by", "VARCHAR(255) NOT NULL DEFAULT ''"),
        ("revoked_reason", "TEXT NOT NULL DEFAULT ''"),
    ),
    "user": (
        ("disabled_at", "DATETIME"),
        ("disabled_by", "VARCHAR(255) NOT NULL DEFAULT ''"),
        ("disabled_reason", "TEXT NOT NULL DEFAULT ''"),
    ),
}


def _present(db, table: str) -> set[str]:
    return {column.name for column in db.get_columns(table)}


def up(db):
    for table, columns in COLUMNS.items():
        have = _present(db, table)
        for name, sql in columns:
            if name not in have:
                db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{name}" {sql}')


def down(db):
    # DROP COLUMN needs SQLite 3.35 (2021); it rewrites the table in place without
    # dropping it, so no foreign-key cascade runs.
    for table, columns in COLUMNS.items():
        have = _present(db, table)
        for name, _sql in columns:
            if name in have:
                db.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN "{name}"')
