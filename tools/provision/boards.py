"""Provisioning operations: new board, revoke, list. Each change is recorded.

A new board gets a fresh 32-byte key from `secrets`, is registered in the
car's device list (gateway.store.devices) and gets its config.json written for
`alpr flash`. The key is never printed or logged; its fingerprint (the first
16 hex digits of its SHA-256) identifies it in output and in the access record.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import AlprError
from gateway.store import audit, devices
from gateway.store.models import Device
from tools.provision import boardconfig

logger = logging.getLogger(__name__)

KEY_BYTES = 32


class ProvisionError(AlprError):
    """A provisioning request that cannot be carried out."""


@dataclass
class Provisioned:
    board_id: str
    board_type: str
    name: str
    config_path: Path
    key_fingerprint: str
    rekeyed: bool

    pinmap: str = ""

    def as_dict(self) -> dict:
        return {"board_id": self.board_id, "board_type": self.board_type, "name": self.name,
                "config_path": str(self.config_path), "key_fingerprint": self.key_fingerprint,
                "rekeyed": self.rekeyed, "pinmap": self.pinmap}


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def fingerprint(key_hex: str) -> str:
    return hashlib.sha256(bytes.fromhex(key_hex)).hexdigest()[:16]


def provision(keys_dir: Path, board_id: str, board_type: str, *, name: str = "",
              pinmap_path: Path | None = None, overrides: dict | None = None,
              rekey: bool = False, username: str = "") -> Provisioned:
    """Make a key, register the board, write its config.json; record the change."""
    existing = Device.get_or_none(Device.board_id == board_id)
    if existing is not None and existing.revoked_at is None and not rekey:
        raise ProvisionError(
            f"board {board_id!r} is already provisioned; give --rekey to replace its key "
            "(the board must then be flashed again)"
        )
    if not devices.BOARD_ID.match(board_id or "") or set(board_id) <= {"."}:
        raise ProvisionError(f"board id {board_id!r}: use 1-64 letters, digits, '.', '_' or '-'")
    if existing is not None and existing.revoked_at is None and existing.board_type == board_type:
        # A new key, not a new board: keep the pin map and settings it was provisioned with
        # (a board wired by its own pin map must not be flashed with the reference one).
        pinmap_path, overrides = _kept_for_rekey(keys_dir, board_id, pinmap_path, overrides)
    if pinmap_path is None and boardconfig.DEFAULT_PINMAPS.get(board_type, Path()).is_file():
        pinmap_path = boardconfig.DEFAULT_PINMAPS[board_type]
    pinmap = boardconfig.load_pinmap(pinmap_path, board_type) if pinmap_path else None
    key_hex = new_key().hex()
    # Validate everything before anything is written, so a bad option leaves no trace.
    config = boardconfig.build(board_id, board_type, key_hex, pinmap, overrides)
    path = boardconfig.path_for(keys_dir, board_id)
    pinmap_copy = boardconfig.pinmap_path_for(keys_dir, board_id)
    boardconfig.write(path, config)
    if pinmap is not None:
        boardconfig.write(pinmap_copy, pinmap)
    else:
        pinmap_copy.unlink(missing_ok=True)
    devices.register_device(board_id, board_type, key_hex, name=name)
    fp = fingerprint(key_hex)
    action = "device.rekey" if existing is not None else "device.provision"
    audit.record(action, username=username, query=board_id,
                 detail=f"type={board_type} key_sha256={fp}")
    logger.info("provisioned board %s (%s), key %s", board_id, board_type, fp)
    return Provisioned(board_id, board_type, name, path, fp, existing is not None,
                       str(pinmap_path or ""))


def _kept_for_rekey(keys_dir: Path, board_id: str, pinmap_path: Path | None,
                    overrides: dict | None) -> tuple[Path | None, dict]:
    """The board's current pin map and settings, under what this rekey gives anew."""
    kept: dict = {}
    try:
        current = boardconfig.read(boardconfig.path_for(keys_dir, board_id))
    except boardconfig.BoardConfigError:
        current = {}  # deleted or damaged: provisioning starts from the defaults
    for name, value in current.items():
        if name not in boardconfig.IDENTITY and name not in ("pinmap", "trigger_pin"):
            kept[name] = value
    if pinmap_path is None:
        stored = boardconfig.pinmap_path_for(keys_dir, board_id)
        if stored.is_file():
            pinmap_path = stored
        elif "trigger_pin" in current:
            kept["trigger_pin"] = current["trigger_pin"]
    kept.update(overrides or {})
    return pinmap_path, kept


def revoke(keys_dir: Path, board_id: str, *, username: str = "") -> dict:
    """Revoke the board's key in the device list and delete its config file."""
    device = devices.revoke_device(board_id)
    path = boardconfig.path_for(keys_dir, board_id)
    removed = path.exists()
    path.unlink(missing_ok=True)
    pinmap_copy = boardconfig.pinmap_path_for(keys_dir, board_id)
    pinmap_copy.unlink(missing_ok=True)
    if path.parent.is_dir() and not any(path.parent.iterdir()):
        path.parent.rmdir()
    audit.record("device.revoke", username=username, query=board_id,
                 detail=f"type={device.board_type} config_removed={removed}")
    logger.info("revoked board %s", board_id)
    return {"board_id": board_id, "revoked_at": device.revoked_at, "config_removed": removed}


def listing(keys_dir: Path) -> list[dict]:
    rows = devices.list_devices()
    for row in rows:
        row["config_file"] = boardconfig.path_for(keys_dir, row["board_id"]).exists()
    return rows
