"""The gateway's end of one board link, independent of what carries the bytes.

BoardConnection is fed the bytes read from a port (`feed`) and writes through
the `write` callable it was given. It authenticates the board from its hello
(the key comes from the device registry; MACs compared with
hmac.compare_digest), reassembles frame transfers, answers them, tracks
statistics, and sends commands. The LinkManager runs one per port; the
console's BoardSession uses the same class.

Each verified hello opens a session (shared.session): the gateway answers
with a welcome, and from then on both ends MAC with the session key and
accept only increasing sequence numbers, so recorded frames cannot be
replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import logging
import math
import os
import struct
import threading
import time
from collections.abc import Callable

from gateway.link.frames import ReceivedFrame
from gateway.link.reassembly import Reassembler
from shared import cbor, messages
from shared.framing import (
    FLAG_FROM_GATEWAY,
    FLAG_RETRANSMIT,
    MAC_LEN,
    FrameDecoder,
    FrameEncoder,
    seq_newer,
)
from shared.hmac256 import Hmac
from shared.session import NONCE_LEN, session_key

logger = logging.getLogger(__name__)

HEARTBEAT_LATE_S = 3.0  # a board heartbeats at 1 Hz; later than this is "degraded"
HEARTBEAT_LOST_S = 10.0  # ... and this is "down"
CLOCK_FLOOR = 1_577_836_800.0  # 2020-01-01 UTC: no frame of this product was captured before it
CLOCK_AHEAD_S = 60.0  # a capture time this far past the gateway's clock is a wrong board clock
_LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
               "error": logging.ERROR}
_command_ids = itertools.count(1)


class BoardConnection:
    def __init__(
        self,
        port: str,
        write: Callable[[bytes], object],
        key_lookup: Callable[[str], bytes | None],
        max_frame_bytes: int = 256 * 1024,
        on_frame: Callable[[ReceivedFrame], None] | None = None,
        on_event: Callable[[str, BoardConnection], None] | None = None,
    ):
        self.port = port
        self._write = write
        self._key_lookup = key_lookup
        self._on_frame = on_frame
        self._on_event = on_event
        self._decoder = FrameDecoder()
        self._reasm = Reassembler(max_frame_bytes)
        self._lock = threading.Lock()
        self._replies: dict[int, dict] = {}
        self._reply_cond = threading.Condition()
        self.board_id: str | None = None
        self.hello: dict = {}
        self._hmac: Hmac | None = None  # the session's
        self._encoder: FrameEncoder | None = None
        self._rx_seq = 0
        self.opened_at = time.time()
        self.last_heartbeat: dict = {}
        self.last_heartbeat_at: float | None = None
        self.last_rx_at: float | None = None
        self.errors = {"mac": 0, "unprovisioned": 0, "direction": 0, "malformed": 0,
                       "unexpected": 0, "write": 0}
        self.counters = {"bytes_in": 0, "messages": 0, "frames_received": 0,
                         "jpeg_bytes": 0, "chunks": 0, "chunks_resent": 0, "triggers": 0,
                         "hellos": 0, "logs": 0, "clock_replaced": 0}
        self.last_trigger: dict = {}
        self._last_unprovisioned_log = -1e9
        self._last_bad_mac_log = -1e9

    # --- input -------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        self.counters["bytes_in"] += len(data)
        self._decoder.feed(data, self._handle)

    def _handle(self, dec: FrameDecoder) -> None:
        # The boundary for one message: whatever a message holds, the decoder
        # goes on with the rest of the bytes and the port's reader thread lives.
        try:
            self._dispatch(dec)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, struct.error) as exc:
            self.errors["malformed"] += 1
            logger.warning("board %s: message type %s could not be handled (%s: %s); ignored",
                           self.board_id, dec.mtype, type(exc).__name__, exc)

    def _dispatch(self, dec: FrameDecoder) -> None:
        if dec.flags & FLAG_FROM_GATEWAY:
            self.errors["direction"] += 1
            return
        mtype = dec.mtype
        if mtype == messages.HELLO:
            self._on_hello(dec)
            return
        if self._hmac is None:
            self.errors["unprovisioned"] += 1
            return
        if not self._mac_ok(self._hmac, dec):
            return
        if not seq_newer(dec.seq, self._rx_seq):
            dec.errors["replay"] += 1
            return
        self._rx_seq = dec.seq
        self.last_rx_at = time.time()
        self.counters["messages"] += 1
        if mtype == messages.CHUNK:
            self._on_chunk(dec)
            return
        try:
            msg = messages.check(mtype, cbor.loads(bytes(dec.payload)))
        except (cbor.CborError, messages.MessageError) as exc:
            self.errors["malformed"] += 1
            logger.debug("board %s: malformed message: %s", self.board_id, exc)
            return
        if mtype == messages.HEARTBEAT:
            self.last_heartbeat = msg
            self.last_heartbeat_at = time.time()
            self._send(messages.HEARTBEAT, {"time": time.time(),
                                            "link_errors": self.error_count()})
            self._event("heartbeat")
        elif mtype == messages.FRAME:
            self._answer(self._reasm.on_meta(msg))
        elif mtype == messages.POLL:
            self._answer(self._reasm.on_poll(msg["xfer"], msg["round"]))
        elif mtype == messages.TRIGGER:
            self.counters["triggers"] += 1
            self.last_trigger = msg
        elif mtype == messages.LOG:
            self.counters["logs"] += 1
            level = _LOG_LEVELS.get(str(msg.get("level")), logging.INFO)
            logger.log(level, "board %s: %s", self.board_id, str(msg.get("text"))[:500])
        elif mtype == messages.REPLY:
            with self._reply_cond:
                self._replies[msg["id"]] = msg
                if len(self._replies) > 64:
                    del self._replies[next(iter(self._replies))]
                self._reply_cond.notify_all()
        else:
            self.errors["unexpected"] += 1

    def _mac_ok(self, mac: Hmac, dec: FrameDecoder) -> bool:
        want = mac.digest(dec.signed)[:MAC_LEN]
        if hmac.compare_digest(want, bytes(dec.mac)):
            return True
        self.errors["mac"] += 1
        return False

    def _on_hello(self, dec: FrameDecoder) -> None:
        try:
            msg = messages.check(messages.HELLO, cbor.loads(bytes(dec.payload)))
        except (cbor.CborError, messages.MessageError):
            self.errors["malformed"] += 1
            return
        board_id = str(msg["board_id"])
        key = self._key_lookup(board_id)
        if key is None:
            self.errors["unprovisioned"] += 1
            now = time.monotonic()
            if now - self._last_unprovisioned_log > 60:
                self._last_unprovisioned_log = now
                logger.warning("port %s: board %r is not provisioned (or revoked); ignoring it. "
                               "Provision it with `alpr provision`.", self.port, board_id)
            return
        mac = Hmac(key)
        if not self._mac_ok(mac, dec):
            # A board with the wrong key says hello every second: warn once a
            # minute, as for unprovisioned boards; errors["mac"] counts them all.
            now = time.monotonic()
            if now - self._last_bad_mac_log > 60:
                self._last_bad_mac_log = now
                logger.warning("port %s: hello from %r with a bad MAC: wrong key or forged board "
                               "(%d bad MACs so far)", self.port, board_id, self.errors["mac"])
            return
        hello_nonce = msg["nonce"]
        if not isinstance(hello_nonce, bytes) or len(hello_nonce) != NONCE_LEN:
            self.errors["malformed"] += 1
            return
        rebooted = msg.get("boot_id") != self.hello.get("boot_id")
        nonce = os.urandom(NONCE_LEN)
        welcome = cbor.dumps({"nonce": nonce, "hello_nonce": hello_nonce, "time": time.time()})
        skey = session_key(key, hello_nonce, nonce)
        with self._lock:
            if self._encoder is None:
                self._encoder = FrameEncoder(key, from_gateway=True)
            wire = bytes(self._encoder.encode(messages.WELCOME, welcome, mac=mac))
            self._encoder.set_key(skey)
            self.board_id = board_id
            self.hello = msg
            self._hmac = Hmac(skey)
            self._rx_seq = dec.seq
            try:
                self._write(wire)
            except OSError:
                self.errors["write"] += 1
        self.counters["hellos"] += 1
        self.last_rx_at = time.time()
        if rebooted:
            self._reasm.reset()
        logger.log(logging.INFO if rebooted else logging.DEBUG,
                   "port %s: board %s (%s, firmware %s) connected", self.port, board_id,
                   msg.get("board_type"), msg.get("firmware"))
        self._event("hello")

    def _on_chunk(self, dec: FrameDecoder) -> None:
        try:
            xfer, offset = messages.unpack_chunk_head(dec.payload)
        except (messages.MessageError, struct.error):
            self.errors["malformed"] += 1
            return
        self.counters["chunks"] += 1
        if dec.flags & FLAG_RETRANSMIT:
            self.counters["chunks_resent"] += 1
        data = bytes(dec.payload[messages.CHUNK_HEAD_LEN:])
        answer, done = self._reasm.on_chunk(xfer, offset, data)
        if done is not None:
            # Delivered before acknowledged: an ACK tells the board it may free
            # the frame, so a frame that cannot be delivered must not get one.
            try:
                frame = self._received(done)
            except (TypeError, ValueError) as exc:
                self.errors["malformed"] += 1
                self._reasm.forget(done.xfer)
                logger.warning("board %s: frame %s has bad metadata (%s); not acknowledged",
                               self.board_id, done.xfer, exc)
                return
            self._deliver(frame)
        self._answer(answer)

    def _received(self, t) -> ReceivedFrame:
        jpeg = bytes(t.data)
        m = t.meta
        received_at = time.time()
        return ReceivedFrame(
            board_id=self.board_id or "",
            trigger_id=int(m.get("trigger_id", 0)),
            index=int(m.get("index", 0)),
            burst=int(m.get("burst", 1)),
            captured_at=self._capture_time(m.get("captured_at"), received_at),
            exposure_us=int(m.get("exposure_us", 0)),
            gain_db=float(m.get("gain_db", 0.0)),
            jpeg=jpeg,
            received_at=received_at,
            sha256=hashlib.sha256(jpeg).hexdigest(),
        )

    def _capture_time(self, value, received_at: float) -> float:
        """The board's capture time, or the gateway's receive time where the board's clock
        cannot be right: not finite, before CLOCK_FLOOR (a board that captured
        before its first welcome set its clock: 1970 or 2000) or ahead of the gateway.

        A read's time decides its place in the record and its day-366 purge: a 1970 read
        would be purged within the hour, before it reached the regional server. A frame
        held on the board while the link was down keeps its older, real time."""
        captured = float(value)  # present and a number: the message's type check saw to it
        if math.isfinite(captured) and CLOCK_FLOOR <= captured <= received_at + CLOCK_AHEAD_S:
            return captured
        self.counters["clock_replaced"] += 1
        if self.counters["clock_replaced"] == 1:
            logger.warning("board %s: a frame's capture time (%s) cannot be right: its clock is not "
                           "set or runs ahead; the gateway's receive time is used instead. The "
                           "gateway sets the board's clock when it connects and with each heartbeat; "
                           "if this goes on, check the board's firmware (alpr console)",
                           self.board_id, value)
        return received_at

    def _deliver(self, frame: ReceivedFrame) -> None:
        self.counters["frames_received"] += 1
        self.counters["jpeg_bytes"] += len(frame.jpeg)
        if self._on_frame is not None:
            self._on_frame(frame)

    def _answer(self, answer: dict | None) -> None:
        if answer is not None:
            mtype = answer.pop("type")
            self._send(mtype, answer)

    def _event(self, what: str) -> None:
        if self._on_event is not None:
            self._on_event(what, self)

    # --- output ------------------------------------------------------------

    def _send(self, mtype: int, msg: dict) -> bool:
        # One lock around encode and write: frames from two threads never interleave.
        with self._lock:
            if self._encoder is None:
                return False
            wire = bytes(self._encoder.encode(mtype, cbor.dumps(msg)))
            try:
                self._write(wire)
                return True
            except OSError as exc:
                self.errors["write"] += 1
                logger.debug("port %s: write failed: %s", self.port, exc)
                return False

    def command_nowait(self, cmd: str, args: dict | None = None) -> int:
        """Send a command; return its id (the reply arrives in wait_reply)."""
        if cmd not in messages.COMMANDS:
            raise ValueError(f"unknown command {cmd!r}; one of {', '.join(messages.COMMANDS)}")
        cid = next(_command_ids) & 0x7FFFFFFF
        if not self._send(messages.COMMAND, {"id": cid, "cmd": cmd, "args": args or {}}):
            return -1
        return cid

    def wait_reply(self, cid: int, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        with self._reply_cond:
            while cid not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._reply_cond.wait(left)
            return self._replies.pop(cid)

    # --- status ------------------------------------------------------------

    def error_count(self) -> int:
        return self._decoder.error_count() + sum(self.errors.values())

    def health(self, now: float | None = None) -> str:
        now = now or time.time()
        if self.board_id is None:
            return "unauthenticated"
        if self.last_heartbeat_at is None or now - self.last_heartbeat_at > HEARTBEAT_LOST_S:
            return "down"
        if now - self.last_heartbeat_at > HEARTBEAT_LATE_S:
            return "degraded"
        return "good"

    def stats(self) -> dict:
        now = time.time()
        errors = dict(self._decoder.errors)
        errors.update(self.errors)
        return {
            "board_id": self.board_id,
            "port": self.port,
            "health": self.health(now),
            "board_type": self.hello.get("board_type"),
            "firmware": self.hello.get("firmware"),
            "last_heartbeat": self.last_heartbeat,
            "last_heartbeat_age_s": (round(now - self.last_heartbeat_at, 1)
                                     if self.last_heartbeat_at else None),
            "counters": dict(self.counters, **{f"reassembly_{k}": v
                                               for k, v in self._reasm.counters.items()}),
            "errors": errors,
            "board_drops": self.last_heartbeat.get("drops", 0),
        }
