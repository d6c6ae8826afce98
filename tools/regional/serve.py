"""Serving the regional API over HTTPS with client certificates required.

werkzeug's threaded server, with one change: the TLS handshake happens in the
connection's own thread, not in the accept loop, so one slow car on a bad
link cannot hold up the others' handshakes.
"""

from __future__ import annotations

import logging
import ssl
import threading
from pathlib import Path

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from tools.regional.app import create_app
from tools.regional.models import open_regional
from tools.regional.pki import PkiError
from tools.regional.retention import purge

logger = logging.getLogger(__name__)

PURGE_EVERY_S = 24 * 3600


def tls_context(pki_dir: Path) -> ssl.SSLContext:
    pki_dir = Path(pki_dir)
    for name in ("server.pem", "server.key", "ca.pem"):
        if not (pki_dir / name).exists():
            # The PKI lives in <dir>/pki, and `init` takes the server's folder.
            raise PkiError(f"{pki_dir / name} is missing: run `alpr regional init --dir {pki_dir.parent}`")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(pki_dir / "server.pem", pki_dir / "server.key")
    ctx.load_verify_locations(pki_dir / "ca.pem")
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class _Handler(WSGIRequestHandler):
    # werkzeug closes the connection after every response (it cannot drain a
    # request body safely otherwise), so each request is a TCP+TLS connection;
    # the car keeps several in flight so that the handshakes overlap. Behind a
    # production WSGI server keep-alive would save those handshakes.
    protocol_version = "HTTP/1.1"

    def log_request(self, code="-", size="-"):
        logger.debug("%s %s %s", self.address_string(), self.requestline, code)


class RegionalServer(ThreadedWSGIServer):
    daemon_threads = True

    def __init__(self, host: str, port: int, app, ctx: ssl.SSLContext, idle_timeout_s: float = 120):
        super().__init__(host, port, app, handler=_Handler)
        self.ssl_context = ctx  # set after bind: the listening socket stays plain
        self.idle_timeout_s = idle_timeout_s

    def finish_request(self, request, client_address):
        request.settimeout(self.idle_timeout_s)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            logger.info("TLS handshake with %s failed: %s", client_address[0], exc)
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except (ssl.SSLError, OSError) as exc:
            logger.debug("connection from %s ended: %s", client_address[0], exc)
        finally:
            try:
                tls.close()
            except OSError:
                pass


def make_server(db: str | Path, pki_dir: Path, host: str = "127.0.0.1", port: int = 8444,
                test_config: dict | None = None) -> RegionalServer:
    open_regional(db)
    app = create_app(pki_dir, test_config)
    return RegionalServer(host, port, app, tls_context(pki_dir))


def serve_forever(server: RegionalServer, stop: threading.Event | None = None) -> None:
    """Serve until interrupted, purging expired reads once a day."""
    stop = stop or threading.Event()

    def retention_loop():
        while not stop.is_set():
            try:
                purge()
            except Exception:  # noqa: BLE001 - the next day's run tries again
                logger.exception("retention purge failed")
            stop.wait(PURGE_EVERY_S)

    threading.Thread(target=retention_loop, name="retention", daemon=True).start()
    try:
        server.serve_forever()
    finally:
        stop.set()
        server.server_close()
