"""The region's certificates: only cars with a certificate from the region's
CA get through the TLS handshake; revocation is in the CRL the server reads."""

from __future__ import annotations

import pytest
import requests
from _upload_helpers import RunningServer, make_car, make_pki
from cryptography import x509

from gateway.upload.transport import make_session
from tools.regional import pki


@pytest.fixture
def region(tmp_path):
    folder = make_pki(tmp_path)
    server = RunningServer(tmp_path / "regional.db", folder).start()
    yield tmp_path, folder, server
    server.stop()


def test_an_issued_car_is_recognised_by_its_terminal_id(region):
    tmp_path, folder, server = region
    data, config = make_car(tmp_path, folder, server.url, terminal="unit-12")
    session, base = make_session(config.upload, data.root)
    with session:
        assert session.get(f"{base}/api/v1/health", timeout=5).json() == {
            "ok": True, "terminal": "unit-12"}


def test_no_client_certificate_no_handshake(region):
    _tmp, folder, server = region
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{server.url}/api/v1/health", verify=str(folder / "ca.pem"), timeout=5)


def test_a_certificate_from_another_ca_is_refused(region, tmp_path):
    _tmp, folder, server = region
    other = tmp_path / "other-pki"
    pki.init_ca(other, ["127.0.0.1"])
    stranger = pki.issue_car(other, "car-x")
    with pytest.raises((requests.exceptions.SSLError, requests.exceptions.ConnectionError)):
        requests.get(f"{server.url}/api/v1/health", verify=str(folder / "ca.pem"),
                     cert=(str(stranger.cert), str(stranger.key)), timeout=5)


def test_revocation_reaches_the_running_server(region):
    tmp_path, folder, server = region
    data, config = make_car(tmp_path, folder, server.url, terminal="car-r")
    serials = pki.revoke_car(folder, "car-r")
    assert set(serials) <= pki.revoked_serials(folder)
    session, base = make_session(config.upload, data.root)
    with session:
        answer = session.get(f"{base}/api/v1/health", timeout=5)
    assert answer.status_code == 403


def test_revoking_a_reissued_car_also_refuses_its_installed_certificate(region):
    # issue-car --install, then issue-car again (overwriting cars/car-7.pem), then revoke:
    # the certificate still installed in the car was left working.
    tmp_path, folder, server = region
    data, config = make_car(tmp_path, folder, server.url, terminal="car-7")
    installed = x509.load_pem_x509_certificate((folder / "cars" / "car-7.pem").read_bytes())
    newer = pki.issue_car(folder, "car-7")
    pki.revoke_car(folder, "car-7")
    assert {installed.serial_number, newer.serial} <= pki.revoked_serials(folder)
    assert pki.issued_serials(folder, "car-7") == sorted({installed.serial_number, newer.serial})
    session, base = make_session(config.upload, data.root)
    with session:
        assert session.get(f"{base}/api/v1/health", timeout=5).status_code == 403


def test_terminal_ids_are_checked():
    with pytest.raises(pki.PkiError, match="terminal id"):
        pki.issue_car("/nonexistent", "../etc")
