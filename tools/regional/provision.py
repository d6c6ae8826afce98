"""Installing a car's certificate bundle into its data folder and turning on
upload: the files go to `<data>/tls/` (key 0600) and the upload section of
`<data>/config.json` points at them, with the server's pin."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

from gateway.config import Config
from gateway.datadir import DataDir
from gateway.errors import AlprError
from tools.regional.pki import CarBundle


class InstallError(AlprError):
    """The car's upload settings were refused; nothing was installed."""


def check_server_url(url: str) -> str:
    """The regional server's address as the car will use it: https with a host. Anything else
    would be saved with upload enabled and fail on every sync, far from where it was typed."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        raise InstallError(f"--server-url {url!r} is not an https URL of the regional server: "
                           "give it as https://HOST[:PORT], e.g. https://127.0.0.1:8444")
    return url


def install_car(bundle: CarBundle, data: DataDir, server_url: str, **upload_overrides) -> Config:
    check_server_url(server_url)
    data = data.ensure()
    names = {"cert": "upload-client.pem", "key": "upload-client.key", "ca": "upload-ca.pem"}
    for attr, name in names.items():
        target = data.tls / name
        shutil.copyfile(getattr(bundle, attr), target)
        if attr == "key":
            target.chmod(0o600)
    config = Config.load(data.config_file)
    config.agency.terminal = bundle.terminal
    config.upload.enabled = True
    config.upload.server_url = server_url
    config.upload.client_cert = f"tls/{names['cert']}"
    config.upload.client_key = f"tls/{names['key']}"
    config.upload.ca_cert = f"tls/{names['ca']}"
    config.upload.server_pin_sha256 = bundle.server_pin_sha256
    for key, value in upload_overrides.items():
        config.override(f"upload.{key}", value, f"--{key.replace('_', '-')}")
    config.save(data.config_file)
    return config


def installed_files(data: DataDir) -> list[Path]:
    return [data.tls / n for n in ("upload-client.pem", "upload-client.key", "upload-ca.pem")]
