"""The one folder that holds all of a car's state.

Chosen with `alpr --data DIR` or the ALPR_DATA environment variable, default
`./data`. Every subsystem asks this module for its paths, so that nothing
writes outside the folder and a technician can back up a car by copying it.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import DataFolderError

logger = logging.getLogger(__name__)

ENV_VAR = "ALPR_DATA"
DEFAULT = "./data"


@dataclass(frozen=True)
class DataDir:
    root: Path

    @classmethod
    def resolve(cls, option: str | None = None) -> DataDir:
        path = option or os.environ.get(ENV_VAR) or DEFAULT
        return cls(Path(path).expanduser().resolve())

    def ensure(self) -> DataDir:
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            _private(self.root)
            for sub in ("images", "frames", "keys", "tls", "exports", "backups", "logs"):
                (self.root / sub).mkdir(exist_ok=True)
        except OSError as exc:
            raise DataFolderError(
                f"cannot create the data folder {self.root}: {exc.strerror}; "
                "choose another with --data DIR or ALPR_DATA"
            ) from None
        return self

    @property
    def config_file(self) -> Path:
        return self.root / "config.json"

    @property
    def database(self) -> Path:
        return self.root / "alpr.db"

    @property
    def images(self) -> Path:
        return self.root / "images"

    @property
    def frames(self) -> Path:
        return self.root / "frames"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def tls(self) -> Path:
        return self.root / "tls"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


def _private(root: Path) -> None:
    """The folder closed to other local accounts: it holds every read, plate crop, password hash and
    one-time-code secret, which policy 462 allows only trained, named users to see."""
    mode = stat.S_IMODE(root.stat().st_mode)
    if mode & 0o077:
        try:
            root.chmod(mode & 0o700)
            logger.warning("data folder %s was open to other local accounts (mode %o): closed to 700",
                           root, mode)
        except OSError as exc:
            logger.warning("data folder %s is open to other local accounts (mode %o) and cannot be "
                           "closed (%s): make it private (chmod 700)", root, mode, exc.strerror)
