"""The officer's screen: a Flask app, one blueprint per feature.

`create_app(config, datadir, services, test_config)`: defaults, then the
car's configuration, then the test configuration. Security (sign-in, CSRF,
headers, screen lock) is in `security.py` and `session.py`; template helpers
in `filters.py`, so that this factory stays a list.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from flask import Flask

from gateway.config import Config
from gateway.datadir import DataDir
from gateway.web.context import WebContext

logger = logging.getLogger(__name__)

BLUEPRINTS = ("auth", "live", "alerts", "search", "hotlists", "devices", "admin")


def create_app(config: Config | None = None, datadir: DataDir | None = None,
               services=None, test_config: dict | None = None) -> Flask:
    import importlib

    from gateway.store import audit
    from gateway.store.images import ImageStore
    from gateway.web import errors, filters, security, session, url_numbers

    datadir = (datadir or DataDir.resolve()).ensure()
    config = config or Config.load(datadir.config_file)
    _open_database(datadir)
    audit.configure(config.agency.agency, config.agency.terminal)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=security.secret_key(datadir),
        SESSION_COOKIE_NAME="alpr_session",
        SESSION_COOKIE_SECURE=config.web.tls,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=config.web.reauth_hours),
        MAX_CONTENT_LENGTH=1024 * 1024,
        IDLE_LOCK_S=config.web.idle_lock_minutes * 60,
        SESSION_END_IDLE_S=3600,  # CJIS: network sessions end after 1 hour idle
        REAUTH_S=config.web.reauth_hours * 3600,
        LOGIN_RATE=(10, 60.0),  # sign-in attempts per client address per window (s)
        STREAM_MAX_S=120.0,  # an SSE stream ends and the browser reconnects, re-checking the session
        TLS=config.web.tls,
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["alpr"] = WebContext(
        config=config, datadir=datadir, services=services,
        images=ImageStore(datadir.images), stop=app.config.get("STOP_EVENT") or threading.Event(),
    )
    url_numbers.init_app(app)  # before the blueprints' routes are built
    security.init_app(app)
    session.init_app(app)
    filters.init_app(app)
    errors.init_app(app)
    for name in BLUEPRINTS:
        module = importlib.import_module(f"gateway.web.{name}")
        app.register_blueprint(module.bp)
    return app


def _open_database(datadir: DataDir) -> None:
    from gateway.store.db import open_database
    from gateway.store.models import database

    if database.obj is None:
        open_database(datadir.database)
