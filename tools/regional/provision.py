"""Installing a car's certificate bundle into its data folder and turning on
upload: the files go to `<data>/tls/` (key 0600) and the upload section of
`<data>/config.json` points at them, with the server's pin."""

from __future__ import annotations

import shutil
from pathlib import Path

from gateway.config import Config
from gateway.datadir import DataDir
from tools.regional.pki import CarBundle


def install_car(bundle: CarBundle, data: DataDir, server_url: str, **upload_overrides) -> Config:
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
        setattr(config.upload, key, value)
    config.save(data.config_file)
    return config


def installed_files(data: DataDir) -> list[Path]:
    return [data.tls / n for n in ("upload-client.pem", "upload-client.key", "upload-ca.pem")]
