"""The board's config.json: what `alpr provision new` writes and `alpr flash` copies.

It holds the board's key, so it is written with owner-only permissions into
`<data>/keys/boards/<board_id>/config.json` and deleted when the board is revoked. Values are
checked with the firmware's own validator (firmware/config.py).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from gateway.errors import AlprError
from tools.provision.firmware_config import module as firmware_config

# Sensible starting values per board type; a technician changes the rest with
# `alpr console` (config set), which validates on the board too.
TYPE_DEFAULTS = {
    "openmv": {"camera": "openmv", "transport": "usb", "trigger": "gpio",
               "trigger_active_high": False},
    "esp32s3": {"camera": "esp32", "transport": "usb", "trigger": "gpio",
                "trigger_active_high": False},
    "sim": {"camera": "sim", "transport": "pty", "trigger": "sim"},
}
PINMAP_ON_BOARD = "pinmap.json"
# Set by provisioning itself: the board id and type the car registered, and the key it holds.
# An override of one would write a config the car's device list does not match (a board that
# says hello under another name, or with a key the gateway does not know).
IDENTITY = ("board_id", "board_type", "key_hex")
REPO = Path(__file__).resolve().parents[2]
# The reference build of each board type (hardware/README.md), used when no --pinmap is given.
DEFAULT_PINMAPS = {
    "openmv": REPO / "hardware" / "pinmaps" / "openmv-h7-plus.json",
    "esp32s3": REPO / "hardware" / "pinmaps" / "xiao-esp32s3-sense.json",
}


class BoardConfigError(AlprError):
    """A board config or pin map that the firmware would not accept."""


# How each board type's MicroPython names a pin. OpenMV's Pin and LED take names ("P7",
# "LED_RED"), never a bare number; the ESP32 port's machine.Pin takes GPIO numbers, and has no
# OpenMV header names or pyb LEDs. A pin map written the other way is for the other board.
def _openmv_style(value) -> bool:
    return isinstance(value, str) and (value.startswith("LED_") or re.fullmatch(r"P\d+", value)
                                       is not None)


PIN_NAMING = {
    "openmv": (lambda value: isinstance(value, str), 'pin names such as "P7"'),
    "esp32s3": (lambda value: not _openmv_style(value), "GPIO numbers such as 1"),
}


def load_pinmap(path: Path, board_type: str | None = None) -> dict:
    """The pin map in `path`, checked by the firmware's rules and, given the board type,
    that its pins are named the way that board's MicroPython names them."""
    fw = firmware_config()
    try:
        pinmap = fw.load_pinmap(str(path))
    except fw.ConfigError as exc:
        raise BoardConfigError(f"{exc}; see hardware/pinmaps/ for working examples") from None
    fits, words = PIN_NAMING.get(board_type, (None, ""))
    if fits is not None:
        wrong = sorted(name for name, value in pinmap["pins"].items() if not fits(value))
        if wrong:
            default = DEFAULT_PINMAPS[board_type].relative_to(REPO)
            raise BoardConfigError(
                f"{path}: a pin map for board {pinmap['board']!r}, not for an {board_type} "
                f"board ({', '.join(wrong)}: not {words}): give the {board_type} board's pin "
                f"map, e.g. {default}")
    return pinmap


def build(board_id: str, board_type: str, key_hex: str, pinmap: dict | None = None,
          overrides: dict | None = None) -> dict:
    """The config.json content for a board, validated by the firmware's rules."""
    if board_type not in TYPE_DEFAULTS:
        raise BoardConfigError(f"board type {board_type!r}: one of {', '.join(TYPE_DEFAULTS)}")
    for name in overrides or {}:
        if name in IDENTITY:
            raise BoardConfigError(
                f"--set {name}: set by provisioning itself (the board id and --board-type are "
                "given as arguments; the key is made fresh, --rekey for a new one)")
    raw = {"board_id": board_id, "board_type": board_type, "key_hex": key_hex}
    raw.update(TYPE_DEFAULTS[board_type])
    if pinmap is not None:
        raw["pinmap"] = PINMAP_ON_BOARD
        trigger = pinmap["pins"].get("trigger")
        if trigger is not None:
            raw["trigger_pin"] = str(trigger)
    raw.update(overrides or {})
    if board_type == "esp32s3" and raw.get("trigger") == "diff":
        # The ESP32 camera driver has no small grab to difference (firmware/capture.py): the
        # board would come up with no trigger at all (hardware/bom.md, A4'': OpenMV only).
        raise BoardConfigError("board config: trigger \"diff\" (frame difference) works on "
                               "OpenMV boards only; an esp32s3 board needs a radar or loop "
                               "detector on its trigger pin: trigger \"gpio\"")
    fw = firmware_config()
    try:
        fw.validate(raw)
    except fw.ConfigError as exc:
        raise BoardConfigError(f"board config: {exc}") from None
    # Only the values that differ from the firmware's defaults go to the board,
    # so a later firmware with better defaults is not pinned to old ones.
    return {k: v for k, v in raw.items() if fw.DEFAULTS.get(k) != v or k in IDENTITY}


def board_dir(keys_dir: Path, board_id: str) -> Path:
    if not board_id or set(board_id) <= {"."} or "/" in board_id or "\\" in board_id:
        raise BoardConfigError(f"board id {board_id!r} cannot name a folder")
    return keys_dir / "boards" / board_id


def path_for(keys_dir: Path, board_id: str) -> Path:
    return board_dir(keys_dir, board_id) / "config.json"


def pinmap_path_for(keys_dir: Path, board_id: str) -> Path:
    """The pin map chosen at provisioning, kept next to the config for `alpr flash`."""
    return board_dir(keys_dir, board_id) / PINMAP_ON_BOARD


def write(path: Path, config: dict) -> None:
    """Write owner-only, write-then-rename, so the key never sits world-readable."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".board-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(config, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        # A provisioned config lives in keys/boards/<board_id>/; for any other path (`--config
        # FILE`) the folder's name is not a board id, and an empty one printed a broken command.
        board_id = path.parent.name if path.parent.parent.name == "boards" and path.parent.name \
            else "BOARD_ID"
        raise BoardConfigError(
            f"{path} does not exist: provision the board first with "
            f"`alpr provision new {board_id} --board-type ...` and flash it with --board-id"
        ) from None
    except json.JSONDecodeError as exc:
        raise BoardConfigError(f"{path}: not valid JSON at line {exc.lineno}") from None
    except UnicodeDecodeError as exc:
        raise BoardConfigError(f"{path}: not a board config (byte {exc.start} is not text; a "
                               "firmware image?): give the config.json `alpr provision new` "
                               "wrote, or use --board-id") from None
    except IsADirectoryError:
        raise BoardConfigError(f"{path} is a folder: give the board's config.json file") from None
    except OSError as exc:
        raise BoardConfigError(f"cannot read {path}: {exc.strerror}") from None
    fw = firmware_config()
    try:
        fw.validate(data)
    except fw.ConfigError as exc:
        raise BoardConfigError(f"{path}: {exc}") from None
    return data
