"""`alpr bench link`: the link protocol over a simulated noisy serial line.

The board's side is the real shared/ code (FrameEncoder, Sender,
FrameDecoder), the gateway's side the real BoardConnection and its
reassembly; only the line is simulated, in simulated time: each byte takes
10 bits of line time (8N1), noise flips bits at the given rate in both
directions, and the board waits for the gateway's answers as the firmware
does (an answer takes its own transmission time plus a turnaround; a lost
one costs the ack timeout). Heartbeats (1 Hz) share the line.
A hello and welcome open the session first.

payload_efficiency = JPEG bytes delivered intact per second / (baud / 10).
Every sent frame ends up delivered intact, delivered corrupt (never, or
the MAC and CRC failed us), or lost and counted by the board (its transfer
failed: reported as a drop in its heartbeat); anything else is
frames_lost_uncounted.
"""

from __future__ import annotations

import hashlib
import random
import time
from pathlib import Path

from gateway.errors import ConfigError
from gateway.link.connection import BoardConnection
from shared import PROTOCOL_VERSION, cbor, messages
from shared.framing import FLAG_FROM_GATEWAY, FrameDecoder, FrameEncoder
from shared.hmac256 import Hmac
from shared.session import new_nonce, session_key
from shared.transfer import Sender
from tools.cli import common
from tools.sim.line import Noise

FRAMES = Path(__file__).resolve().parents[1] / "sim" / "frames"
TARGET_EFFICIENCY = 0.95


def register(subparsers) -> None:
    p = subparsers.add_parser("link", help="protocol efficiency and integrity over a noisy line")
    p.add_argument("--baud", type=common.at_least(9600), default=921600,
                   help="line rate, 9600 or more as link.baud (default 921600)")
    p.add_argument("--bit-error-rate", type=float, default=1e-6)
    p.add_argument("--frames", type=int, default=200, help="frames to send (default 200)")
    p.add_argument("--frames-dir", type=Path, default=FRAMES, help="JPEGs to send (20-40 KB)")
    p.add_argument("--chunk", type=int, default=2048, help="chunk size in bytes (256-4096)")
    p.add_argument("--ack-timeout-ms", type=common.at_least_float(0.0, above=True), default=50.0)
    p.add_argument("--turnaround-ms", type=common.at_least_float(0.0), default=0.5,
                   help="gateway processing time before an answer leaves")
    p.add_argument("--seed", type=common.at_least(0), default=462)
    common.add_json(p)
    p.set_defaults(func=run)


class _Board:
    """The board's end, as the firmware drives it, without the asyncio."""

    def __init__(self, key: bytes, chunk: int):
        self.enc = FrameEncoder(key, max(chunk + messages.CHUNK_HEAD_LEN, 2048))
        self.dec = FrameDecoder(2048)
        self.key = key
        self.board_mac = Hmac(key)
        self.mac: Hmac | None = None
        self.nonce = b""
        self.sender = Sender(self.enc, chunk)

    def hello(self) -> memoryview:
        self.nonce = new_nonce()
        msg = {"board_id": "bench-1", "board_type": "sim", "firmware": "bench",
               "protocol": PROTOCOL_VERSION, "caps": ["jpeg"], "boot_id": 1, "nonce": self.nonce}
        return self.enc.encode(messages.HELLO, cbor.dumps(msg), mac=self.board_mac)

    def receive(self, data: bytes) -> None:
        self.dec.feed(data, self._on_frame)

    def _on_frame(self, dec) -> None:
        if not dec.flags & FLAG_FROM_GATEWAY:
            return
        if dec.mtype == messages.WELCOME:
            if dec.check_mac(self.board_mac):
                msg = cbor.loads(bytes(dec.payload))
                if msg["hello_nonce"] == self.nonce:
                    skey = session_key(self.key, self.nonce, msg["nonce"])
                    self.mac = Hmac(skey)
                    self.enc.set_key(skey)
            return
        if self.mac is None or not dec.check_mac(self.mac):
            return
        try:
            msg = cbor.loads(bytes(dec.payload))
        except cbor.CborError:
            return
        if dec.mtype == messages.ACK:
            self.sender.on_ack(msg.get("xfer"), msg.get("offset", 0), msg.get("round"))
        elif dec.mtype == messages.NACK:
            self.sender.on_nack(msg.get("xfer"), msg.get("offset", 0), msg.get("missing") or [],
                                msg.get("round"))


# The board's clock as the gateway's welcome sets it: simulated time counts from a fixed, real
# moment (2026-01-01T00:00Z; fixed so that runs stay repeatable), as a time near 0 is 1970 to the
# gateway, which would replace every frame's time and warn that the board's clock is unset.
_EPOCH = 1_767_225_600.0


def measure(baud: int, ber: float, n_frames: int, jpegs: list[bytes], chunk: int = 2048,
            ack_timeout_s: float = 0.05, turnaround_s: float = 0.0005, seed: int = 462) -> dict:
    if baud < 9600:  # every byte's line time is 10 / baud: 0 divides by zero
        raise ConfigError(f"--baud {baud}: the link runs at 9600 baud or more")
    rate = baud / 10.0
    key = hashlib.sha256(b"bench-key-%d" % seed).digest()
    up = Noise(ber, seed=seed)
    down = Noise(ber, seed=seed + 1)
    to_board: list[bytes] = []
    delivered: list = []
    gw = BoardConnection("bench", to_board.append, lambda _bid: key,
                         max_frame_bytes=1 << 20, on_frame=delivered.append)
    board = _Board(key, chunk)
    clock = 0.0
    line_bytes = 0
    next_heartbeat = 1.0

    def send_up(wire) -> None:
        nonlocal clock, line_bytes
        data = bytes(wire)
        clock += len(data) / rate
        line_bytes += len(data)
        gw.feed(up.impair(data))

    def answers_back() -> bool:
        """Deliver what the gateway wrote; True if anything reached the board.

        Full duplex: an answer costs the board time only if it was waiting
        for it, i.e. if it moved the transfer on (ack, nack); a heartbeat's
        answer arrives while the board keeps sending.
        """
        nonlocal clock
        if not to_board:
            return False
        data = b"".join(to_board)
        to_board.clear()
        arrival = clock + turnaround_s + len(data) / rate
        s = board.sender
        before = (s.rounds, s.finished())
        board.receive(down.impair(data))
        if (s.rounds, s.finished()) != before:
            clock = max(clock, arrival)
        return True

    while board.mac is None:  # hello until welcomed (noise may take either)
        send_up(board.hello())
        answers_back()
    rng = random.Random(seed)
    sent: dict[int, str] = {}
    counted_lost = 0
    retransmitted = 0
    wall = time.perf_counter()
    for i in range(n_frames):
        jpeg = jpegs[rng.randrange(len(jpegs))]
        xfer = (i + 1) & 0xFFFF
        sent[i] = hashlib.sha256(jpeg).hexdigest()
        meta = {"xfer": xfer, "trigger_id": i, "index": 0, "burst": 1, "total": len(jpeg),
                "captured_at": _EPOCH + clock, "exposure_us": 8000, "gain_db": 6.0, "chunk": chunk}
        s = board.sender
        s.start(xfer, cbor.dumps(meta), memoryview(jpeg), len(jpeg))
        while not s.finished():
            if clock >= next_heartbeat:
                next_heartbeat += 1.0
                send_up(board.enc.encode(messages.HEARTBEAT, cbor.dumps(_heartbeat(i, counted_lost))))
            wire = s.next_frame()
            if wire is not None:
                send_up(wire)
                answers_back()  # full duplex: answers arrive while the board keeps sending
                continue
            if not answers_back() or s.waiting():
                clock += ack_timeout_s
                s.poll()
        retransmitted += s.retransmits
        if not s.succeeded():
            counted_lost += 1
    wall = time.perf_counter() - wall
    intact = sum(1 for f in delivered if sent.get(f.trigger_id) == f.sha256)
    corrupt = len(delivered) - intact
    jpeg_bytes = sum(len(f.jpeg) for f in delivered if sent.get(f.trigger_id) == f.sha256)
    lost_uncounted = n_frames - intact - corrupt - counted_lost
    efficiency = (jpeg_bytes / clock) / rate if clock else 0.0
    errors = {k: v for k, v in gw.stats()["errors"].items() if v}
    return {
        "baud": baud,
        "bit_error_rate": ber,
        "frames_sent": n_frames,
        "frames_delivered_intact": intact,
        "frames_corrupt_accepted": corrupt,
        "frames_lost_counted": counted_lost,
        "frames_lost_uncounted": lost_uncounted,
        "payload_efficiency": round(efficiency, 4),
        "mean_frame_bytes": round(sum(len(j) for j in jpegs) / len(jpegs)),
        "chunk_bytes": chunk,
        "final_chunk_bytes": board.sender.chunk,
        "jpeg_bytes_delivered": jpeg_bytes,
        "line_bytes": line_bytes,
        "retransmitted_bytes": retransmitted,
        "bits_flipped": up.stats["bits_flipped"] + down.stats["bits_flipped"],
        "gateway_errors": errors,
        "simulated_seconds": round(clock, 3),
        "wall_seconds": round(wall, 2),
        "target_efficiency": TARGET_EFFICIENCY,
    }


def _heartbeat(frames: int, drops: int) -> dict:
    return {"uptime_ms": 0, "mem_free": 0, "temp_c": None, "triggers": frames, "frames": frames,
            "sent": frames, "drops": drops, "link_errors": 0, "queued": 0, "state": "ok"}


def load_jpegs(folder: Path) -> list[bytes]:
    if not folder.is_dir():
        raise ConfigError(f"--frames-dir {folder}: no such folder")
    jpegs = [p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix.lower() in (".jpg", ".jpeg")]
    if not jpegs:
        raise ConfigError(f"--frames-dir {folder}: no .jpg files")
    return jpegs


def run(args) -> int:
    if not 0.0 <= args.bit_error_rate < 0.01:
        raise ConfigError("--bit-error-rate must be between 0 and 0.01")
    if not 256 <= args.chunk <= 4096:
        raise ConfigError("--chunk must be between 256 and 4096")
    if not 1 <= args.frames <= 100_000:
        raise ConfigError("--frames must be between 1 and 100000")
    result = measure(args.baud, args.bit_error_rate, args.frames, load_jpegs(args.frames_dir),
                     args.chunk, args.ack_timeout_ms / 1000, args.turnaround_ms / 1000, args.seed)
    human = "\n".join(f"{k}: {v}" for k, v in result.items())
    common.emit(result, args.json, human)
    return 0
