"""The web stage: HTTPS with a certificate made on first run, plain HTTP when asked, clean stop."""

from __future__ import annotations

import os
import socket
import stat
import threading

import pytest
import requests

from gateway.config import Config
from gateway.web.server import WebServerError, WebStage


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(datadir, tls: bool, port: int | None = None):
    config = Config()
    config.web.host, config.web.port, config.web.tls = "127.0.0.1", port or free_port(), tls
    stop = threading.Event()
    stage = WebStage(config, datadir, services=None)
    errors = []

    def run():
        try:
            stage.run(stop)
        except Exception as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)
            stage.ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert stage.ready.wait(30)
    return stage, stop, thread, errors


def test_https_by_default_with_generated_certificate(db, datadir):
    stage, stop, thread, errors = start(datadir, tls=True)
    try:
        assert not errors and stage.url.startswith("https://")
        cert, key = datadir.tls / "web-cert.pem", datadir.tls / "web-key.pem"
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
        response = requests.get(stage.url + "/login", verify=str(cert), timeout=10)
        assert response.status_code == 200
        assert "Strict-Transport-Security" in response.headers
        assert "Secure" in response.headers["Set-Cookie"]
        assert requests.get(stage.url + "/live", verify=str(cert), timeout=10,
                            allow_redirects=False).status_code == 302
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_no_tls_serves_http(db, datadir):
    stage, stop, thread, errors = start(datadir, tls=False)
    try:
        assert requests.get(stage.url + "/login", timeout=10).status_code == 200
        assert not (datadir.tls / "web-cert.pem").exists()
    finally:
        stop.set()
        thread.join(10)


def test_port_in_use_is_a_clear_error(db, datadir):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        _stage, stop, thread, errors = start(datadir, tls=False, port=busy.getsockname()[1])
        thread.join(10)
    assert errors and isinstance(errors[0], WebServerError) and "--port" in str(errors[0])
    with pytest.raises(WebServerError):
        raise errors[0]


def test_plain_http_listens_on_loopback_only(db, datadir, caplog):
    # Policy 462.5(f): without TLS, sign-in, reads and images would cross the car's network in
    # clear; plain HTTP (the demo's --no-tls) stays on this computer.
    config = Config()
    config.web.tls = False
    assert WebStage(config, datadir).listen_host() == "127.0.0.1"  # the default, 0.0.0.0
    config.web.host = "::1"
    assert WebStage(config, datadir).listen_host() == "::1"
    config.web.host = "192.0.2.10"
    with pytest.raises(WebServerError, match="loopback address only.*policy 462.5"):
        WebStage(config, datadir).listen_host()
    config.web.tls = True
    assert WebStage(config, datadir).listen_host() == "192.0.2.10"
    config.web.tls, config.web.host, config.web.port = False, "0.0.0.0", free_port()
    stop = threading.Event()
    stage = WebStage(config, datadir)
    thread = threading.Thread(target=stage.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert stage.ready.wait(30)
        assert stage._server.server_address[0] == "127.0.0.1"
        assert requests.get(stage.url + "/login", timeout=10).status_code == 200
        assert "listens on 127.0.0.1 only" in caplog.text
    finally:
        stop.set()
        thread.join(10)
