"""HTTPS to the regional server: the car's client certificate (mutual TLS),
the server's CA, and the server certificate pinned by the SHA-256 of its DER
form. There is no plaintext fallback: an http:// URL is refused.

The pin is checked by urllib3 right after the handshake, before a byte of the
request is written, so a read never goes to a server that does not match.
"""

from __future__ import annotations

import logging
import re
import ssl
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter

from gateway.config import UploadConfig
from gateway.errors import AlprError

logger = logging.getLogger(__name__)

PIN_RE = re.compile(r"^[0-9a-f]{64}$")


class TransportConfigError(AlprError):
    """The upload section cannot make a secure connection; the message says which field."""


def _resolve_pem(value: str, field: str, tls_dir: Path, root: Path) -> str:
    """A field holds either a path (relative to the data folder) or the PEM text itself."""
    if not value:
        raise TransportConfigError(f"upload.{field} is empty: install the car's certificate "
                                   "with `alpr regional issue-car ... --install`")
    if value.lstrip().startswith("-----BEGIN"):
        tls_dir.mkdir(parents=True, exist_ok=True)
        path = tls_dir / f"upload-{field}.pem"
        if not path.exists() or path.read_text() != value:
            path.write_text(value)
            path.chmod(0o600)
        return str(path)
    path = Path(value)
    if not path.is_absolute():
        path = root / path
    if not path.exists():
        raise TransportConfigError(f"upload.{field}: {path} does not exist")
    return str(path)


def ssl_context(cfg: UploadConfig, root: Path) -> ssl.SSLContext:
    tls_dir = root / "tls"
    ctx = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH, cafile=_resolve_pem(cfg.ca_cert, "ca_cert", tls_dir, root)
    )
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(
            _resolve_pem(cfg.client_cert, "client_cert", tls_dir, root),
            _resolve_pem(cfg.client_key, "client_key", tls_dir, root),
        )
    except ssl.SSLError as exc:
        raise TransportConfigError(f"upload.client_cert/client_key do not load: {exc}") from None
    return ctx


def check_url(url: str) -> str:
    if not url:
        raise TransportConfigError("upload.server_url is empty: set it to https://host:port")
    if not url.lower().startswith("https://"):
        raise TransportConfigError(
            f"upload.server_url {url!r} is not https://: reads never travel in plaintext"
        )
    return url.rstrip("/")


def check_pin(pin: str) -> str:
    pin = pin.replace(":", "").strip().lower()
    if not PIN_RE.match(pin):
        raise TransportConfigError(
            "upload.server_pin_sha256 must be the 64-hex-digit SHA-256 of the server "
            "certificate (DER); `alpr regional issue-car` prints it"
        )
    return pin


class PinnedAdapter(HTTPAdapter):
    """An adapter whose connections carry our SSLContext and check the pin."""

    def __init__(self, context: ssl.SSLContext, pin: str, **kwargs):
        self._context = context
        self._pin = pin
        super().__init__(**kwargs)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        pool_kwargs["ssl_context"] = self._context
        pool_kwargs["assert_fingerprint"] = self._pin
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)

    def send(self, request, **kwargs):
        if not request.url.lower().startswith("https://"):
            raise TransportConfigError("refusing a plaintext request to the regional server")
        return super().send(request, **kwargs)


def make_session(cfg: UploadConfig, root: Path, pool: int = 4) -> tuple[requests.Session, str]:
    """A session for the regional server, and its base URL. Raises TransportConfigError."""
    base = check_url(cfg.server_url)
    pin = check_pin(cfg.server_pin_sha256)
    session = requests.Session()
    session.trust_env = False  # no proxy or netrc from the environment
    adapter = PinnedAdapter(ssl_context(cfg, Path(root)), pin, pool_connections=1,
                            pool_maxsize=pool, max_retries=0)
    session.mount("https://", adapter)
    # A plain-http adapter that always refuses, so no code path can fall back.
    session.mount("http://", _RefuseAdapter())
    return session, base


class _RefuseAdapter(HTTPAdapter):
    def send(self, request, **kwargs):
        raise TransportConfigError("refusing a plaintext request to the regional server")
