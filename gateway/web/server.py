"""The web stage: the Flask app on werkzeug's threaded server, HTTPS by default."""

from __future__ import annotations

import ipaddress
import logging
import threading

from werkzeug.serving import make_server

from gateway.config import Config
from gateway.datadir import DataDir
from gateway.errors import AlprError

logger = logging.getLogger(__name__)

IDLE_SWEEP_S = 6 * 3600  # accounts unused for 90 days are disabled (CJIS), checked this often
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
LOOPBACK = "127.0.0.1"


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
        host = "localhost" if host in WILDCARD_HOSTS else host  # plain HTTP: loopback alone
        return f"{scheme}://{host}:{self.port or self.config.web.port}"

    def listen_host(self) -> str:
        """The address to listen on. Plain HTTP (`--no-tls`, the demo) would carry passwords,
        one-time codes, reads and images in clear over the car's network (policy 462.5(f)):
        it listens on this computer's loopback only; an address named for it is refused."""
        host = self.config.web.host
        if self.config.web.tls or _is_loopback(host):
            return host
        if host in WILDCARD_HOSTS:
            return LOOPBACK
        raise WebServerError(
            f"web.host is {host}, but plain HTTP (--no-tls or web.tls false) listens on this "
            "computer's loopback address only: over the car's network it would carry passwords, "
            "reads and images unencrypted (policy 462.5(f)). Turn TLS on (leave out --no-tls, "
            "set web.tls true), or set web.host to 127.0.0.1")

    def run(self, stop: threading.Event) -> None:
        from gateway.web import create_app
        from gateway.web.tls import server_context

        app = create_app(self.config, self.datadir, self.services,
                         test_config={"STOP_EVENT": stop, **self.test_config})
        host = self.listen_host()
        if host != self.config.web.host:
            logger.warning("plain HTTP (TLS off): the officer's UI listens on %s only, not on %s; "
                           "turn TLS on to serve the tablet over the network", host,
                           self.config.web.host or "every address")
        ssl_context = server_context(self.datadir.tls) if self.config.web.tls else None
        try:
            self._server = make_server(host, self.config.web.port, app,
                                       threaded=True, ssl_context=ssl_context)
        except (OSError, SystemExit) as exc:
            # werkzeug exits (SystemExit) when the port is taken; a stage must raise instead.
            reason = getattr(exc, "strerror", None) or "address in use or not available"
            raise WebServerError(
                f"cannot listen on {host}:{self.config.web.port}: {reason}; "
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


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to any address
