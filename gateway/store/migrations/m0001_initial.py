"""The first schema: every model as declared in gateway/store/models.py today.

Later changes get their own numbered module with explicit column operations
(playhouse.migrate), never an edit of this one.
"""

from gateway.store import models


def up(db):
    db.create_tables(models.ALL_MODELS)


def down(db):
    db.drop_tables(list(reversed(models.ALL_MODELS)))
