"""The web stage: the Flask app on werkzeug's threaded server, HTTPS by default."""

from __future__ import annotations

import logging
import threading

from werkzeug.serving import make_server

from gateway.config import Config
from gateway.datadir import DataDir
from gateway.errors import AlprError

logger = logging.getLogger(__name__)

IDLE_SWEEP_S = 6 * 3600  # accounts unused for 90 days are disabled (CJIS), checked this often


class WebServerError(AlprError):
    """The officer's UI could not start (port in use, certificate unreadable)."""


class WebStage:
    """A supervised stage: `run(stop)` serves until `stop` is set.

    `services` gives the views other stages' objects: a dict (or an object
    with `get(name)`) holding "link" (the LinkManager) and "upload" (with
    `status()`), either of which may be missing or None.
    """

    name = "web"

    def __init__(self, config: Config, datadir: DataDir, services=None, *, test_config=None):
        self.config = config
        self.datadir = datadir
        self.services = services
        self.test_config = test_config or {}
        self.ready = threading.Event()
        self.port: int | None = None
        self._server = None

    @property
    def url(self) -> str:
        scheme = "https" if self.config.web.tls else "http"
        host = self.config.web.host
        host = "localhost" if host in ("0.0.0.0", "::", "") else host
        return f"{scheme}://{host}:{self.port or self.config.web.port}"

    def run(self, stop: threading.Event) -> None:
        from gateway.web import create_app
        from gateway.web.tls import server_context

        app = create_app(self.config, self.datadir, self.services,
                         test_config={"STOP_EVENT": stop, **self.test_config})
        ssl_context = server_context(self.datadir.tls) if self.config.web.tls else None
        try:
            self._server = make_server(self.config.web.host, self.config.web.port, app,
                                       threaded=True, ssl_context=ssl_context)
        except (OSError, SystemExit) as exc:
            # werkzeug exits (SystemExit) when the port is taken; a stage must raise instead.
            reason = getattr(exc, "strerror", None) or "address in use or not available"
            raise WebServerError(
                f"cannot listen on {self.config.web.host}:{self.config.web.port}: {reason}; "
                "another program may be using the port (choose another with --port)") from None
        self._server.daemon_threads = True
        # One line per request is noise in the car's log; -vv (DEBUG) brings it back.
        werkzeug_log = logging.getLogger("werkzeug")
        if werkzeug_log.level == logging.NOTSET and not logger.isEnabledFor(logging.DEBUG):
            werkzeug_log.setLevel(logging.WARNING)
        self.port = self._server.server_port
        thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.5},
                                  name="web-http", daemon=True)
        thread.start()
        logger.info("officer's UI on %s", self.url)
        self.ready.set()
        try:
            self._sweep_idle_accounts()
            while not stop.wait(IDLE_SWEEP_S):
                self._sweep_idle_accounts()
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join(5)
            self.ready.clear()

    @staticmethod
    def _sweep_idle_accounts() -> None:
        from gateway.accounts.signin import disable_idle_accounts

        try:
            names = disable_idle_accounts()
        except Exception:  # noqa: BLE001 - a failed sweep is retried; sign-in checks too
            logger.exception("idle-account sweep failed")
            return
        if names:
            logger.warning("%d accounts disabled after 90 days unused", len(names))
