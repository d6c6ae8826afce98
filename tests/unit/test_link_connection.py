"""The gateway's end of a link: authentication, sessions, statistics, frames."""

from __future__ import annotations

import hashlib

from gateway.link.connection import BoardConnection
from shared import PROTOCOL_VERSION, cbor, messages
from shared.framing import FLAG_FROM_GATEWAY, FrameDecoder, FrameEncoder
from shared.hmac256 import Hmac
from shared.session import session_key
from shared.transfer import Sender

KEY = bytes(range(32))
NONCE = b"12345678"
HELLO = {"board_id": "b1", "board_type": "sim", "firmware": "t", "protocol": PROTOCOL_VERSION,
         "caps": [], "boot_id": 1, "nonce": NONCE}
HEARTBEAT = {"uptime_ms": 1, "mem_free": 2, "temp_c": None, "triggers": 0, "frames": 0,
             "sent": 0, "drops": 3, "link_errors": 0, "queued": 0, "state": "ok"}


def make(keys=None):
    out = []
    frames = []
    conn = BoardConnection("test", out.append, lambda bid: ({"b1": KEY} if keys is None else keys).get(bid),
                           on_frame=frames.append)
    return conn, out, frames


def hello(enc, key=KEY):
    return bytes(enc.encode(messages.HELLO, cbor.dumps(HELLO), mac=Hmac(key)))


def gateway_frames(out):
    dec = FrameDecoder()
    seen = []
    dec.feed(b"".join(out), lambda d: seen.append((d.mtype, d.flags, bytes(d.signed), bytes(d.mac),
                                                   bytes(d.payload))))
    return seen


def open_session(conn, out):
    """Say hello like a board; return the board's encoder, switched to the session key."""
    enc = FrameEncoder(KEY)
    conn.feed(hello(enc))
    mtype, flags, signed, mac, payload = gateway_frames(out)[0]
    assert mtype == messages.WELCOME and flags & FLAG_FROM_GATEWAY
    assert Hmac(KEY).digest(signed)[:8] == mac  # the welcome is signed with the board key
    welcome = cbor.loads(payload)
    assert welcome["hello_nonce"] == NONCE
    enc.set_key(session_key(KEY, NONCE, welcome["nonce"]))
    return enc, welcome


def test_unprovisioned_and_forged_boards_are_refused():
    conn, out, _ = make(keys={})
    conn.feed(hello(FrameEncoder(KEY)))
    assert conn.board_id is None and conn.errors["unprovisioned"] == 1 and out == []
    conn, out, _ = make()
    conn.feed(hello(FrameEncoder(KEY), key=b"forged key 0123456789abcdef"))
    assert conn.board_id is None and conn.errors["mac"] == 1 and out == []
    # frames before a hello are not acted on
    conn.feed(bytes(FrameEncoder(KEY).encode(messages.LOG, cbor.dumps({"level": "info", "text": "x"}))))
    assert conn.counters["logs"] == 0 and conn.errors["unprovisioned"] == 1


def test_session_heartbeat_and_signed_answers():
    conn, out, _ = make()
    enc, welcome = open_session(conn, out)
    assert conn.board_id == "b1" and conn.health() == "down"
    conn.feed(bytes(enc.encode(messages.HEARTBEAT, cbor.dumps(HEARTBEAT))))
    st = conn.stats()
    assert st["health"] == "good" and st["board_drops"] == 3
    # the gateway's answer is signed with the session key, not the board key
    skey = session_key(KEY, NONCE, welcome["nonce"])
    mtype, flags, signed, mac, _ = gateway_frames(out)[-1]
    assert mtype == messages.HEARTBEAT and Hmac(skey).digest(signed)[:8] == mac
    # the board key alone no longer passes, nor does another key
    conn.feed(bytes(FrameEncoder(KEY).encode(messages.HEARTBEAT, cbor.dumps(HEARTBEAT))))
    conn.feed(bytes(FrameEncoder(b"x" * 32).encode(messages.HEARTBEAT, cbor.dumps(HEARTBEAT))))
    assert conn.stats()["errors"]["mac"] == 2


def test_replayed_frames_are_refused():
    conn, out, _ = make()
    enc, _ = open_session(conn, out)
    frame = bytes(enc.encode(messages.LOG, cbor.dumps({"level": "info", "text": "once"})))
    conn.feed(frame)
    conn.feed(frame)  # the same frame again, as a recording would replay it
    assert conn.counters["logs"] == 1 and conn.stats()["errors"]["replay"] == 1
    # a whole recorded session (old hello included) opens a new session whose key it lacks
    conn.feed(hello(FrameEncoder(KEY)))
    conn.feed(bytes(enc.encode(messages.LOG, cbor.dumps({"level": "info", "text": "old key"}))))
    assert conn.counters["logs"] == 1 and conn.stats()["errors"]["mac"] == 1


def test_a_transfer_becomes_a_received_frame():
    conn, out, frames = make()
    enc, _ = open_session(conn, out)
    jpeg = bytes(range(256)) * 40
    meta = {"xfer": 1, "trigger_id": 4, "index": 1, "burst": 3, "total": len(jpeg),
            "captured_at": 12.5, "exposure_us": 100, "gain_db": 2.0, "chunk": 1024}
    s = Sender(enc, 1024)
    s.start(1, cbor.dumps(meta), memoryview(jpeg), len(jpeg))
    while (wire := s.next_frame()) is not None:
        conn.feed(bytes(wire))
    assert len(frames) == 1
    f = frames[0]
    assert (f.board_id, f.trigger_id, f.index, f.burst, f.jpeg) == ("b1", 4, 1, 3, jpeg)
    assert f.sha256 == hashlib.sha256(jpeg).hexdigest()
    assert conn.stats()["counters"]["frames_received"] == 1


def test_reflected_gateway_frames_are_refused():
    conn, _, _ = make()
    conn.feed(bytes(FrameEncoder(KEY, from_gateway=True).encode(messages.HELLO, cbor.dumps(HELLO))))
    assert conn.board_id is None and conn.errors["direction"] == 1
