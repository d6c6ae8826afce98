"""The firmware's own configuration module, loaded from firmware/config.py.

The board validates its config.json and pin map with firmware/config.py; the
laptop tools load the same file so that a config the tools accept is one the
board accepts. It is plain MicroPython-compatible Python with no imports
beyond json and os, so CPython runs it unchanged.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

from gateway.errors import AlprError

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = REPO / "firmware"


class FirmwareMissingError(AlprError):
    """The firmware sources are not where the tools expect them."""


@cache
def module() -> ModuleType:
    path = FIRMWARE / "config.py"
    if not path.is_file():
        raise FirmwareMissingError(
            f"{path} is missing: run the tools from a full checkout of the project"
        )
    spec = importlib.util.spec_from_file_location("alpr_firmware_config", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
