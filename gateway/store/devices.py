"""The device registry: which camera boards this car accepts, and their keys.

A board is accepted only while it is registered and not revoked; the link
looks keys up with device_key() on every hello, so a revocation takes
effect at the board's next hello.
"""

from __future__ import annotations

import binascii
import re

from gateway.errors import AlprError
from gateway.store.models import Device, utcnow

BOARD_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
BOARD_TYPES = ("openmv", "esp32s3", "sim")


class DeviceError(AlprError):
    """A device registry request that cannot be carried out."""


def _check_key(key_hex: str) -> str:
    try:
        key = binascii.unhexlify(key_hex)
    except (binascii.Error, ValueError):
        raise DeviceError("the board key must be hexadecimal (64 hex digits for 32 bytes)") from None
    if len(key) < 16:
        raise DeviceError("the board key is too short: use at least 16 bytes (32 hex digits)")
    return key_hex.lower()


def register_device(board_id: str, board_type: str, key_hex: str, name: str = "") -> Device:
    """Add a board, or re-key (and un-revoke) one already known."""
    if not BOARD_ID.match(board_id or ""):
        raise DeviceError(f"board id {board_id!r}: use 1-64 letters, digits, '.', '_' or '-'")
    if board_type not in BOARD_TYPES:
        raise DeviceError(f"board type {board_type!r}: one of {', '.join(BOARD_TYPES)}")
    key_hex = _check_key(key_hex)
    device = Device.get_or_none(Device.board_id == board_id)
    if device is None:
        return Device.create(board_id=board_id, board_type=board_type, key_hex=key_hex, name=name)
    device.board_type = board_type
    device.key_hex = key_hex
    device.name = name or device.name
    device.revoked_at = None
    device.registered_at = utcnow()
    device.save()
    return device


def revoke_device(board_id: str) -> Device:
    device = Device.get_or_none(Device.board_id == board_id)
    if device is None:
        raise DeviceError(f"no board {board_id!r} is registered (see `alpr provision --list`)")
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        device.save()
    return device


def device_key(board_id: str) -> bytes | None:
    """The board's key, or None if it is unknown or revoked."""
    device = Device.get_or_none(Device.board_id == board_id)
    if device is None or device.revoked_at is not None:
        return None
    return binascii.unhexlify(device.key_hex)


def mark_seen(board_id: str, firmware_version: str = "") -> None:
    fields = {Device.last_seen_at: utcnow()}
    if firmware_version:
        fields[Device.firmware_version] = firmware_version
    Device.update(fields).where(Device.board_id == board_id).execute()


def list_devices() -> list[dict]:
    """Every registered board, revoked ones included, without keys."""
    return [
        {
            "board_id": d.board_id,
            "board_type": d.board_type,
            "name": d.name,
            "registered_at": d.registered_at,
            "revoked_at": d.revoked_at,
            "last_seen_at": d.last_seen_at,
            "firmware_version": d.firmware_version,
        }
        for d in Device.select().order_by(Device.board_id)
    ]
