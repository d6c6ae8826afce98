"""Server-side web sessions (WebSession), so that signing out or locking the screen holds
for every copy of the session cookie."""

from gateway.store import models


def up(db):
    db.create_tables([models.WebSession])


def down(db):
    db.drop_tables([models.WebSession])
