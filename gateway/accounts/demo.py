"""The demo administrator: created when the gateway starts with simulated boards
and no account exists yet, so that `make run` can be signed into at once."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import string
from pathlib import Path

import pyotp

from gateway.accounts.users import create_user, provisioning_uri
from gateway.store.models import User

logger = logging.getLogger(__name__)

DEMO_USERNAME = "demo-admin"
CREDENTIALS_FILE = "demo-credentials.txt"


def _random_password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def ensure_demo_admin(root: Path, *, echo=print) -> dict | None:
    """Create the demo administrator if there is no user at all.

    Prints the credentials once through `echo` and writes them to
    `<root>/demo-credentials.txt` (mode 0600). Returns them, or None when
    users already exist (nothing is printed or changed then).
    """
    if User.select().exists():
        return None
    password = _random_password()
    user = create_user(
        DEMO_USERNAME, password, "administrator",
        trained_until=dt.date.today() + dt.timedelta(days=365), clets=True,
        full_name="Demo administrator", by="system",
    )
    creds = {
        "username": user.username,
        "password": password,
        "totp_secret": user.totp_secret,
        "otpauth_uri": provisioning_uri(user),
        "current_code": pyotp.TOTP(user.totp_secret).now(),
    }
    text = (
        "Demo administrator (simulated boards; create real accounts with `alpr user add`)\n"
        f"  user name:   {creds['username']}\n"
        f"  password:    {creds['password']}\n"
        f"  TOTP secret: {creds['totp_secret']}  (add to an authenticator app, or\n"
        f"               `alpr user demo-code` prints the current code)\n"
        f"  otpauth URI: {creds['otpauth_uri']}\n"
    )
    path = Path(root) / CREDENTIALS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)
    echo(text + f"  (also written to {path})")
    logger.info("demo administrator created; credentials in %s", path)
    return creds
