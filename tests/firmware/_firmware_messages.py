"""One sample of every message type, as the protocol defines them (CBOR-able values only)."""

from __future__ import annotations

SAMPLES = {
    "hello": {"board_id": "sim-1", "board_type": "openmv", "firmware": "0.1.0", "protocol": 1,
              "caps": ["jpeg", "burst", "resume"], "boot_id": 3735928559, "nonce": b"\x00\x01nonce!"},
    "heartbeat": {"uptime_ms": 123456789, "mem_free": 65536, "temp_c": 41.5, "triggers": 12,
                  "frames": 36, "sent": 35, "drops": 1, "link_errors": 0, "queued": 1,
                  "state": "ok"},
    "heartbeat_no_temp": {"uptime_ms": 0, "mem_free": 1, "temp_c": None, "triggers": 0,
                          "frames": 0, "sent": 0, "drops": 0, "link_errors": 2 ** 40,
                          "queued": 0, "state": "linkdown"},
    "trigger": {"trigger_id": 7, "time": 1795000000.125, "source": "gpio", "strength": 0.75},
    "frame": {"xfer": 65535, "trigger_id": 7, "index": 2, "burst": 3, "total": 31000,
              "captured_at": 1795000000.25, "exposure_us": 8000, "gain_db": -1.5, "chunk": 2048},
    "ack": {"xfer": 9, "offset": 31000, "round": 0},
    "welcome": {"nonce": b"\xffgateway", "hello_nonce": b"\x00\x01nonce!", "time": 1795000000.5},
    "poll": {"xfer": 9, "round": 3},
    "nack": {"xfer": 9, "offset": -1, "missing": [[0, 2048], [4096, 1024]], "round": 2},
    "log": {"level": "warning", "text": "caméra: frame dropped ✓"},
    "command": {"id": 2147483647, "cmd": "config_set", "args": {"burst": 3, "jpeg_quality": 80,
                                                                "service_mode": False}},
    "reply": {"id": 1, "ok": True, "result": {"checks": {"camera": "ok"}, "bytes": b"\x00\xff",
                                               "list": [1, -2, 3.5, None, True]}},
    "reply_error": {"id": 2, "ok": False, "result": {"error": "unknown setting x"}},
}
