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


def _acks(out, skip):
    return [cbor.loads(p) for t, _, _, _, p in gateway_frames(out)[skip:] if t == messages.ACK]


def test_a_frame_with_bad_metadata_is_never_acknowledged():
    # trigger_id "T-1": once acked, then lost when _deliver called int() on it.
    conn, out, frames = make()
    enc, _ = open_session(conn, out)
    jpeg = bytes(range(256)) * 8
    meta = {"xfer": 1, "trigger_id": "T-1", "index": 0, "burst": 1, "total": len(jpeg),
            "captured_at": 12.5, "exposure_us": 100, "gain_db": 2.0, "chunk": 1024}
    s = Sender(enc, 1024)
    s.start(1, cbor.dumps(meta), memoryview(jpeg), len(jpeg))
    while (wire := s.next_frame()) is not None:
        conn.feed(bytes(wire))
    assert frames == [] and conn.errors["malformed"] == 1
    assert _acks(out, 1) == []  # the board keeps it, retries, and counts a drop in the end


def test_metadata_that_fails_on_delivery_is_not_acknowledged(monkeypatch):
    conn, out, frames = make()
    enc, _ = open_session(conn, out)
    jpeg = bytes(range(256)) * 8
    meta = {"xfer": 1, "trigger_id": 9, "index": 0, "burst": 1, "total": len(jpeg),
            "captured_at": 12.5, "exposure_us": 100, "gain_db": 2.0, "chunk": 1024}

    def refuse(t):
        raise ValueError("trigger_id out of range")

    monkeypatch.setattr(conn, "_received", refuse)
    s = Sender(enc, 1024)
    s.start(1, cbor.dumps(meta), memoryview(jpeg), len(jpeg))
    while (wire := s.next_frame()) is not None:
        conn.feed(bytes(wire))
    assert frames == [] and conn.errors["malformed"] == 1 and _acks(out, 1) == []
    conn.feed(bytes(enc.encode(messages.POLL, cbor.dumps({"xfer": 1, "round": 1}))))
    nack = gateway_frames(out)[-1]
    assert nack[0] == messages.NACK and cbor.loads(nack[4])["offset"] == -1  # asks again


def test_wrongly_typed_messages_are_counted_and_the_connection_goes_on():
    conn, out, _ = make()
    enc, _ = open_session(conn, out)
    for mtype, msg in ((messages.POLL, {"xfer": [1], "round": 0}),
                       (messages.REPLY, {"id": [7], "ok": True, "result": {}}),
                       (messages.POLL, {"xfer": 1, "round": "0"}),
                       (messages.HEARTBEAT, {**HEARTBEAT, "drops": "3"}),
                       (messages.LOG, {"level": "info", "text": ["x"]})):
        conn.feed(bytes(enc.encode(mtype, cbor.dumps(msg))))  # raised TypeError before
    assert conn.errors["malformed"] == 5 and conn.last_heartbeat == {}
    conn.feed(bytes(enc.encode(messages.HEARTBEAT, cbor.dumps(HEARTBEAT))))
    assert conn.stats()["health"] == "good"


def test_message_types_are_checked():
    messages.check(messages.NACK, {"xfer": 1, "offset": 0, "missing": [[0, 10]], "round": 2})
    for mtype, bad in ((messages.NACK, {"xfer": 1, "offset": 0, "missing": [[0, "10"]]}),
                       (messages.NACK, {"xfer": 1, "offset": 0, "missing": [5]}),
                       (messages.ACK, {"xfer": 1, "offset": 0, "round": [0]}),
                       (messages.COMMAND, {"id": 1, "cmd": "status", "args": []}),
                       (messages.WELCOME, {"nonce": "n", "hello_nonce": b"", "time": 0})):
        try:
            messages.check(mtype, bad)
        except messages.MessageError as exc:
            assert "type" in str(exc) or "range" in str(exc)
        else:
            raise AssertionError(f"accepted {bad}")


def test_the_port_reader_outlives_a_message_that_raises(caplog):
    import threading

    from gateway.link.manager import _PortWorker

    class Port:
        in_waiting = 0

        def __init__(self):
            self.reads = [b"first", b"second"]

        def read(self, n):
            if self.reads:
                return self.reads.pop(0)
            stop.set()
            return b""

        def close(self):
            pass

    class Conn:
        fed = []

        def feed(self, data):
            self.fed.append(data)
            raise ValueError("a handler bug")

    stop = threading.Event()
    worker = _PortWorker("p", Conn(), Port())
    worker.run(stop)
    assert Conn.fed == [b"first", b"second"]  # read on after the first one raised
    assert "lost" not in caplog.text


def test_bad_mac_hellos_are_warned_about_once_a_minute(caplog, monkeypatch):
    conn, out, _ = make()
    clock = [1000.0]
    monkeypatch.setattr("gateway.link.connection.time.monotonic", lambda: clock[0])
    with caplog.at_level("WARNING", logger="gateway.link.connection"):
        for _ in range(30):  # a board with the wrong key, one hello a second
            conn.feed(hello(FrameEncoder(KEY), key=b"wrong key 0123456789abcdef"))
            clock[0] += 1.0
        clock[0] += 31.0
        conn.feed(hello(FrameEncoder(KEY), key=b"wrong key 0123456789abcdef"))
    warned = [r for r in caplog.records if "bad MAC" in r.getMessage()]
    assert conn.errors["mac"] == 31 and len(warned) == 2 and out == []


def _deliver(conn, enc, captured_at, xfer=1):
    jpeg = bytes(range(256)) * 4
    meta = {"xfer": xfer, "trigger_id": 4, "index": 0, "burst": 1, "total": len(jpeg),
            "captured_at": captured_at, "exposure_us": 100, "gain_db": 2.0, "chunk": 1024}
    s = Sender(enc, 1024)
    s.start(xfer, cbor.dumps(meta), memoryview(jpeg), len(jpeg))
    while (wire := s.next_frame()) is not None:
        conn.feed(bytes(wire))


def test_a_capture_time_from_an_unset_or_runaway_board_clock_is_replaced(caplog):
    """A board that captured before its clock was set sends 1970 or 2000 times; stored as
    such, the read would be purged within the hour as past day 366."""
    import time

    conn, out, frames = make()
    enc, _ = open_session(conn, out)
    now = time.time()
    for xfer, sent in enumerate([12.5, float("nan"), 946_684_800.0, now + 86_400, now - 7200], 1):
        _deliver(conn, enc, sent, xfer)
    assert len(frames) == 5
    for frame in frames[:4]:
        assert frame.captured_at == frame.received_at
    assert frames[4].captured_at == now - 7200  # held while the link was down: a real, older time
    assert conn.stats()["counters"]["clock_replaced"] == 4
    warned = [r for r in caplog.records if "capture time" in r.getMessage()]
    assert len(warned) == 1 and "b1" in warned[0].getMessage()
