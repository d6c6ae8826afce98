"""What every view may need: config, data folder, images, other stages' services."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app

from gateway.config import Config
from gateway.datadir import DataDir
from gateway.store.images import ImageStore


@dataclass
class WebContext:
    config: Config
    datadir: DataDir
    services: Any
    images: ImageStore
    stop: threading.Event

    def service(self, name: str) -> Any:
        """Another stage's object (link manager, uploader), or None if not running.

        `services` may be a dict or an object with attributes; either way a
        missing service is a normal state (no boards yet, upload disabled).
        """
        if self.services is None:
            return None
        if isinstance(self.services, Mapping):
            return self.services.get(name)
        getter = getattr(self.services, "get", None)
        if callable(getter):
            try:
                return getter(name)
            except (KeyError, TypeError):
                return None
        return getattr(self.services, name, None)


def ctx() -> WebContext:
    return current_app.extensions["alpr"]
