"""Message types, their CBOR fields, and the binary chunk header.

Every message but CHUNK is one CBOR map; CHUNK is a struct header followed by
the raw JPEG bytes (never a CBOR string, so the board copies them once).
`REQUIRED` lists the keys each map must carry and `TYPES` the type of each
(same order); `check()` validates a decoded message on either side, keys and
types, and names what is wrong, so that no handler meets a string where it
counts on a number.
"""

import struct

HELLO = 1
HEARTBEAT = 2
TRIGGER = 3
FRAME = 4  # metadata opening a transfer
CHUNK = 5
ACK = 6
NACK = 7
LOG = 8
COMMAND = 9
REPLY = 10
WELCOME = 11  # gateway to board: opens a session (see shared.session)
POLL = 12  # board to gateway: end of a transfer round, asks for an ACK or NACK

NAMES = {
    HELLO: "hello",
    HEARTBEAT: "heartbeat",
    TRIGGER: "trigger",
    FRAME: "frame",
    CHUNK: "chunk",
    ACK: "ack",
    NACK: "nack",
    LOG: "log",
    COMMAND: "command",
    REPLY: "reply",
    WELCOME: "welcome",
    POLL: "poll",
}

REQUIRED = {
    HELLO: ("board_id", "board_type", "firmware", "protocol", "caps", "boot_id", "nonce"),
    HEARTBEAT: ("uptime_ms", "mem_free", "temp_c", "triggers", "frames", "sent",
                "drops", "link_errors", "queued", "state"),
    TRIGGER: ("trigger_id", "time", "source", "strength"),
    FRAME: ("xfer", "trigger_id", "index", "burst", "total", "captured_at",
            "exposure_us", "gain_db", "chunk"),
    ACK: ("xfer", "offset"),
    NACK: ("xfer", "offset", "missing"),
    LOG: ("level", "text"),
    COMMAND: ("id", "cmd", "args"),
    REPLY: ("id", "ok", "result"),
    WELCOME: ("nonce", "hello_nonce", "time"),
    POLL: ("xfer", "round"),
}

_NUM = (int, float)
_ANY = None
# The type of each REQUIRED key, in the same order (a tuple: any of those; None: any).
TYPES = {
    HELLO: (str, str, str, int, list, int, bytes),
    HEARTBEAT: (int, int, (int, float, type(None)), int, int, int, int, int, int, str),
    TRIGGER: (int, _NUM, str, _NUM),
    FRAME: (int, int, int, int, int, _NUM, int, _NUM, int),
    ACK: (int, int),
    NACK: (int, int, list),
    LOG: (str, str),
    COMMAND: (int, str, dict),
    REPLY: (int, bool, _ANY),
    WELCOME: (bytes, bytes, _NUM),
    POLL: (int, int),
}
# Optional keys handlers read, when present.
OPTIONAL = {ACK: ("round", int), NACK: ("round", int)}

COMMANDS = ("status", "config_get", "config_set", "trigger_test", "test_frame",
            "self_test", "reboot", "time_sync", "service_mode")

LOG_LEVELS = ("debug", "info", "warning", "error")

CHUNK_HEAD = "<HI"  # transfer id, byte offset
CHUNK_HEAD_LEN = 6
MAX_MISSING = 16  # ranges per nack; the rest follow in the next round


class MessageError(ValueError):
    pass


def check(mtype, msg):
    """Raise MessageError unless msg is a map with the keys, of the types, its type requires.

    Cheap enough for the board: one isinstance per required key, and for a
    NACK one per missing range (at most MAX_MISSING of them).
    """
    if mtype not in REQUIRED:
        raise MessageError("unknown message type " + str(mtype))
    if not isinstance(msg, dict):
        raise MessageError(NAMES[mtype] + ": not a map")
    keys = REQUIRED[mtype]
    types = TYPES[mtype]
    for i in range(len(keys)):
        key = keys[i]
        if key not in msg:
            raise MessageError(NAMES[mtype] + ": missing " + key)
        kind = types[i]
        if kind is not None and not isinstance(msg[key], kind):
            raise MessageError(NAMES[mtype] + ": " + key + " of the wrong type")
    opt = OPTIONAL.get(mtype)
    if opt is not None and opt[0] in msg and not isinstance(msg[opt[0]], opt[1]):
        raise MessageError(NAMES[mtype] + ": " + opt[0] + " of the wrong type")
    if mtype == NACK:
        for item in msg["missing"]:
            if not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], int) \
                    or not isinstance(item[1], int):
                raise MessageError("nack: missing ranges must be [offset, length]")
    return msg


def pack_chunk_head(buf, xfer, offset):
    struct.pack_into(CHUNK_HEAD, buf, 0, xfer, offset)


def unpack_chunk_head(payload):
    if len(payload) < CHUNK_HEAD_LEN:
        raise MessageError("chunk: too short")
    return struct.unpack_from(CHUNK_HEAD, payload, 0)
