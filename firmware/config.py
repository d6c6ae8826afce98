"""The board's configuration: JSON on flash, validated, with defaults.

load(path) returns a complete, valid config dict. A missing file means the
defaults; an unreadable or invalid one is reported in `problems` and the
defaults are used for the bad fields, so a mis-set board still comes up on
the link where a technician can fix it. save() writes a temporary file and
renames it, so a power cut never leaves half a file.

Settings are also checked against each other (check_together): the frame
pool and the link buffers must fit the heap with room to run, so a setting
that validates never leaves the board unable to boot.

Also validate_pinmap()/load_pinmap() for the pin maps in hardware/pinmaps/.
"""

import json
import os

from shared.framing import FrameDecoder, FrameEncoder
from shared.messages import CHUNK_HEAD_LEN

# name: (type, low, high) for numbers, (str, choices or None, max length) for text;
# for text a number in place of the choices is the least length (board_id: 1).
SCHEMA = {
    "board_id": (str, 1, 64),
    "board_type": (str, ("openmv", "esp32s3", "sim"), 0),
    "key_hex": (str, None, 128),
    "camera": (str, ("auto", "openmv", "esp32", "sim"), 0),
    "trigger": (str, ("gpio", "diff", "sim"), 0),
    "transport": (str, ("auto", "uart", "usb", "pty"), 0),
    "pty": (str, None, 128),
    "frames_dir": (str, None, 128),
    "pinmap": (str, None, 128),
    "burst": (int, 1, 16),
    "burst_interval_ms": (int, 0, 5000),
    "jpeg_quality": (int, 10, 100),
    "frame_slots": (int, 1, 32),
    "max_frame_bytes": (int, 4096, 1048576),
    "chunk_bytes": (int, 256, 4096),
    "ack_timeout_ms": (int, 50, 10000),
    "heartbeat_ms": (int, 200, 10000),
    "link_timeout_ms": (int, 1000, 60000),
    "sim_trigger_ms": (int, 0, 3600000),
    "trigger_pin": (str, None, 16),
    "trigger_active_high": (bool, None, 0),
    "debounce_ms": (int, 0, 2000),
    "diff_threshold": (int, 1, 255),
    "uart_id": (int, 0, 8),
    "baud": (int, 9600, 12000000),
    "watchdog_ms": (int, 1000, 60000),
    "service_mode": (bool, None, 0),
}

DEFAULTS = {
    "board_id": "",
    "board_type": "sim",
    "key_hex": "",
    "camera": "auto",
    "trigger": "sim",
    "transport": "auto",
    "pty": "",
    "frames_dir": "",
    "pinmap": "",
    "burst": 3,
    "burst_interval_ms": 100,
    "jpeg_quality": 80,
    # 4 x 32 KB: room for a burst of 3 while a fourth frame is on the wire,
    # within a 300 KB heap (memory_needed: 232 KB of 300 with the reserve; 40 KB
    # slots fitted by the budget but not always in the heap the Unix port fragments).
    # The simulator's JPEGs are 24-30 KB; 640x480 at quality 60-80 25-35 KB.
    "frame_slots": 4,
    "max_frame_bytes": 32768,
    "chunk_bytes": 2048,
    "ack_timeout_ms": 400,
    "heartbeat_ms": 1000,
    "link_timeout_ms": 3000,
    "sim_trigger_ms": 3000,
    "trigger_pin": "P4",
    "trigger_active_high": True,
    "debounce_ms": 50,
    "diff_threshold": 12,
    "uart_id": 1,
    "baud": 921600,
    "watchdog_ms": 8000,
    "service_mode": False,
}

SECRET = ("key_hex",)
# chunk_bytes sizes the frame encoder's buffer, allocated once at boot.
NEEDS_REBOOT = ("camera", "trigger", "transport", "pty", "frame_slots", "max_frame_bytes",
                "chunk_bytes", "uart_id", "baud", "board_id", "key_hex", "pinmap")

# Memory. The heap the firmware is sized for when it cannot ask (the laptop
# tools, under CPython): an OpenMV Cam or an ESP32-S3 without PSRAM.
MIN_HEAP = 300 * 1024
# What the board needs besides the frame pool and the link buffers: code,
# asyncio, CBOR and status dicts, GC slack. Measured on the Unix port, where
# the modules are compiled into the heap (64 KB) and the running board peaks
# at about 20 KB more; frozen into flash on a board the code costs less.
RUN_RESERVE = 96 * 1024
CONTROL_MAX = 2048  # the board's decoder and smallest encoder payload (board.py)


class ConfigError(ValueError):
    pass


def check_value(name, value):
    """Return the value if it is valid for `name`; raise ConfigError naming the problem."""
    if name not in SCHEMA:
        raise ConfigError("unknown setting " + name)
    kind, a, b = SCHEMA[name]
    if kind is bool:
        if value is not True and value is not False:
            raise ConfigError(name + ": must be true or false")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(name + ": must be a whole number")
        if value < a or value > b:
            raise ConfigError(name + ": must be between " + str(a) + " and " + str(b))
        return value
    if not isinstance(value, str):
        raise ConfigError(name + ": must be text")
    if isinstance(a, int):
        if len(value) < a:
            raise ConfigError(name + ": must not be empty")
    elif a is not None and value not in a:
        raise ConfigError(name + ": must be one of " + ", ".join(a))
    if b and len(value) > b:
        raise ConfigError(name + ": longer than " + str(b) + " characters")
    if name == "key_hex":
        _check_key(value)
    return value


def _check_key(value):
    # board.py unhexlifies it at boot: anything but hex digits would crash it there.
    if len(value) < 32 or len(value) % 2:
        raise ConfigError("key_hex: must be an even number of hex digits, at least 32 (16 bytes)")
    for ch in value:
        if ch not in "0123456789abcdefABCDEF":
            raise ConfigError("key_hex: must be hex digits only (0-9, a-f)")


def heap_size():
    """The whole heap in bytes: the board's own, or MIN_HEAP where it cannot be asked."""
    try:
        import gc

        return gc.mem_free() + gc.mem_alloc()
    except (ImportError, AttributeError):
        return MIN_HEAP


def encoder_payload(chunk_bytes):
    """The board's encoder carries a chunk with its head, or a control message if larger."""
    return max(chunk_bytes + CHUNK_HEAD_LEN, CONTROL_MAX)


def _link_bytes(chunk_bytes):
    # counted by the framing classes themselves, so the budget follows their buffers
    return FrameEncoder.buffer_bytes(encoder_payload(chunk_bytes)) + FrameDecoder.buffer_bytes(CONTROL_MAX)


def memory_needed(cfg):
    """Bytes the frame pool and link buffers take, plus what the board needs to run."""
    return cfg["frame_slots"] * cfg["max_frame_bytes"] + _link_bytes(cfg["chunk_bytes"]) + RUN_RESERVE


def check_together(cfg, heap=None):
    """Raise ConfigError if settings that pass alone cannot work together (memory)."""
    if heap is None:
        heap = heap_size()
    need = memory_needed(cfg)
    if need > heap:
        raise ConfigError(
            "frame_slots x max_frame_bytes (" + str(cfg["frame_slots"]) + " x "
            + str(cfg["max_frame_bytes"]) + ") and chunk_bytes " + str(cfg["chunk_bytes"])
            + " need " + str(need // 1024) + " KB with room to run; this board has "
            + str(heap // 1024) + " KB: use fewer or smaller frame slots")
    return cfg


def validate(raw, base=None, heap=None):
    """Merge `raw` over `base` (the defaults); raise ConfigError on the first bad field.

    The result is also checked as a whole against `heap` bytes (by default
    this board's heap, see heap_size()).
    """
    if not isinstance(raw, dict):
        raise ConfigError("the configuration must be a JSON object")
    out = dict(base or DEFAULTS)
    for name in raw:
        out[name] = check_value(name, raw[name])
    return check_together(out, heap)


MEMORY_SETTINGS = ("frame_slots", "max_frame_bytes", "chunk_bytes")


def load(path, problems=None, heap=None):
    """The config in `path` over the defaults; bad fields are listed in `problems`."""
    cfg = dict(DEFAULTS)
    try:
        with open(path) as fh:
            raw = json.load(fh)
    except OSError:
        return cfg
    except ValueError:
        if problems is not None:
            problems.append(path + ": not valid JSON; using the defaults")
        return cfg
    if not isinstance(raw, dict):
        if problems is not None:
            problems.append(path + ": not a JSON object; using the defaults")
        return cfg
    for name in raw:
        try:
            cfg[name] = check_value(name, raw[name])
        except ConfigError as exc:
            if problems is not None:
                problems.append(str(exc))
    try:
        check_together(cfg, heap)
    except ConfigError as exc:
        # Booting with these would fail for memory: the defaults fit every board.
        if problems is not None:
            problems.append(str(exc) + "; using the defaults for them")
        default_memory(cfg)
    return cfg


def default_memory(cfg):
    """The memory settings back at their defaults, which fit every supported board."""
    for name in MEMORY_SETTINGS:
        cfg[name] = DEFAULTS[name]


def save(path, cfg):
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(cfg, fh)
    try:
        os.remove(path)
    except OSError:
        pass
    os.rename(tmp, path)


def redacted(cfg):
    out = dict(cfg)
    for name in SECRET:
        if out.get(name):
            out[name] = "(set)"
    return out


# --- pin maps ---------------------------------------------------------------

PIN_KEYS = ("trigger", "led", "led_red", "led_green", "led_blue", "ir_enable",
            "uart_tx", "uart_rx", "i2c_scl", "i2c_sda",
            "camera_pwdn", "camera_reset", "camera_xclk", "camera_sda", "camera_scl")


def validate_pinmap(pinmap):
    """Check a pin map loaded from hardware/pinmaps/*.json; return it, or raise ConfigError.

    Format: {"board": "openmv-h7", "pins": {"trigger": "P4", "led_red": "LED_RED", ...}}
      board  a non-empty name of the board (up to 32 characters), e.g. "openmv-h7", "esp32-s3"
      pins   a non-empty object; keys from PIN_KEYS:
             trigger (presence input), led, led_red, led_green, led_blue (status LED),
             ir_enable (IR illuminator), uart_tx, uart_rx (link UART),
             i2c_scl, i2c_sda, camera_pwdn, camera_reset, camera_xclk,
             camera_sda, camera_scl (camera wiring where the board needs it)
             values: a pin name (string of 1-16 characters, e.g. "P4", "LED_RED")
             or a GPIO number (integer 0-255). A pin may appear under two keys
             (alternative uses of one header pin).
    Other top-level keys are allowed only if their names start with "_" (comments).
    """
    if not isinstance(pinmap, dict):
        raise ConfigError("pin map: must be a JSON object")
    for key in pinmap:
        if key not in ("board", "pins") and not (isinstance(key, str) and key.startswith("_")):
            raise ConfigError("pin map: unknown key " + str(key))
    board = pinmap.get("board")
    if not isinstance(board, str) or not board or len(board) > 32:
        raise ConfigError("pin map: 'board' must be a name of 1-32 characters")
    pins = pinmap.get("pins")
    if not isinstance(pins, dict) or not pins:
        raise ConfigError("pin map: 'pins' must be a non-empty object")
    for name in pins:
        if name not in PIN_KEYS:
            raise ConfigError("pin map: unknown pin " + str(name) + "; known: " + ", ".join(PIN_KEYS))
        value = pins[name]
        if isinstance(value, bool):
            raise ConfigError("pin map: pin " + name + " must be a name or a number")
        if isinstance(value, int):
            if value < 0 or value > 255:
                raise ConfigError("pin map: pin " + name + " number out of range 0-255")
        elif isinstance(value, str):
            if not value or len(value) > 16:
                raise ConfigError("pin map: pin " + name + " name must be 1-16 characters")
        else:
            raise ConfigError("pin map: pin " + name + " must be a name or a number")
    return pinmap


def load_pinmap(path):
    """Read and validate a pin-map JSON file; raise ConfigError naming the file."""
    try:
        with open(path) as fh:
            raw = json.load(fh)
    except OSError:
        raise ConfigError(path + ": cannot read the pin map")
    except ValueError:
        raise ConfigError(path + ": the pin map is not valid JSON")
    try:
        return validate_pinmap(raw)
    except ConfigError as exc:
        raise ConfigError(path + ": " + str(exc))
