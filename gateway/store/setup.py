"""Opening the car's store in one call: database, image store, access-record defaults."""

from __future__ import annotations

from dataclasses import dataclass

from peewee import SqliteDatabase

from gateway.config import Config
from gateway.datadir import DataDir
from gateway.store import alerts, audit
from gateway.store.db import open_database
from gateway.store.images import ImageStore


@dataclass
class Store:
    db: SqliteDatabase
    images: ImageStore
    config: Config

    def close(self) -> None:
        self.db.close()


def open_store(datadir: DataDir, config: Config) -> Store:
    """Open (and migrate) `<data>/alpr.db`, bind the models, set agency and terminal."""
    db = open_database(datadir.database)
    audit.configure(config.agency.agency, config.agency.terminal)
    alerts.configure(config.alerts.repeat_window_s)
    return Store(db, ImageStore(datadir.images), config)
