"""Transport settings: no plaintext, a well-formed pin, certificate files that exist."""

import pytest

from gateway.config import UploadConfig
from gateway.upload.transport import TransportConfigError, check_pin, check_url, make_session


def test_plaintext_urls_are_refused():
    with pytest.raises(TransportConfigError, match="plaintext"):
        check_url("http://regional.example:8444")
    with pytest.raises(TransportConfigError, match="empty"):
        check_url("")
    assert check_url("https://regional.example:8444/") == "https://regional.example:8444"


def test_pin_must_be_a_sha256():
    assert check_pin("AB:" * 31 + "AB") == "ab" * 32
    with pytest.raises(TransportConfigError, match="64-hex-digit"):
        check_pin("1234")


def test_missing_certificate_names_the_field(tmp_path):
    cfg = UploadConfig(server_url="https://127.0.0.1:8444", server_pin_sha256="a" * 64,
                       ca_cert="tls/none.pem", client_cert="tls/c.pem", client_key="tls/k.pem")
    with pytest.raises(TransportConfigError, match="upload.ca_cert"):
        make_session(cfg, tmp_path)
    cfg.ca_cert = ""
    with pytest.raises(TransportConfigError, match="issue-car"):
        make_session(cfg, tmp_path)
