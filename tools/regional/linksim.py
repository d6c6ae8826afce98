"""A simulated cellular link on loopback: a TCP proxy that throttles each
direction with a shared token bucket, delays every chunk by half the round
trip, and resets connections at random.

Resets are drawn per request, not per connection: each time the car starts a
new request on a connection (it sends after the server has answered), the
connection is reset with probability `reset_rate`, after a random number of
further bytes up to `reset_window`. With keep-alive a connection carries many
requests, so this is harsher than resetting a share of connections, and it
hits both mid-batch and just after a batch was delivered but before the
answer came back.
"""

from __future__ import annotations

import logging
import queue
import random
import socket
import struct
import threading
import time

from gateway.upload.throttle import TokenBucket

logger = logging.getLogger(__name__)

CHUNK = 8192


class _Conn:
    def __init__(self, link: LinkSim, client: socket.socket, upstream: socket.socket):
        self.link = link
        self.client = client
        self.upstream = upstream
        self.closed = threading.Event()
        self.answered = True  # the server has sent since the client last did
        self.reset_in: int | None = None
        self.lock = threading.Lock()

    def start(self) -> None:
        one_way = self.link.rtt_s / 2
        for src, dst, bucket, up in (
            (self.client, self.upstream, self.link.up, True),
            (self.upstream, self.client, self.link.down, False),
        ):
            q: queue.Queue = queue.Queue()
            threading.Thread(target=self._read, args=(src, bucket, q, one_way, up),
                             daemon=True).start()
            threading.Thread(target=self._write, args=(dst, q), daemon=True).start()

    def _read(self, src, bucket, q, one_way, up) -> None:
        try:
            while not self.closed.is_set():
                data = src.recv(CHUNK)
                if not data:
                    break
                if up and self._should_reset(len(data)):
                    self.reset()
                    return
                if not up:
                    with self.lock:
                        self.answered = True
                if bucket is not None:
                    bucket.consume(len(data), self.closed)
                with self.link.lock:
                    self.link.stats["bytes_up" if up else "bytes_down"] += len(data)
                q.put((time.monotonic() + one_way, data))
        except OSError:
            pass
        q.put((time.monotonic() + one_way, b""))

    def _should_reset(self, size: int) -> bool:
        with self.lock:
            if self.answered:
                self.answered = False
                if self.link.rng.random() < self.link.reset_rate:
                    self.reset_in = self.link.rng.randint(0, self.link.reset_window)
            if self.reset_in is None:
                return False
            self.reset_in -= size
            return self.reset_in < 0

    def _write(self, dst, q) -> None:
        try:
            while True:
                due, data = q.get()
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if self.closed.is_set():
                    return
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                dst.sendall(data)
        except OSError:
            self.close()

    def reset(self) -> None:
        with self.link.lock:
            self.link.stats["resets"] += 1
        for sock in (self.client, self.upstream):
            try:
                # Linger 0: close sends a RST, as a dropped cellular session does.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.close()

    def close(self) -> None:
        self.closed.set()
        for sock in (self.client, self.upstream):
            try:
                sock.close()
            except OSError:
                pass


class LinkSim:
    def __init__(self, target_port: int, bandwidth_bps: float = 2_000_000, rtt_s: float = 0.1,
                 reset_rate: float = 0.0, reset_window: int = 64 * 1024, seed: int | None = None):
        self.target = ("127.0.0.1", target_port)
        self.rtt_s = rtt_s
        self.reset_rate = reset_rate
        self.reset_window = reset_window
        # A burst of 0.1 s of link time stands in for the modem's send buffer: a
        # sender thread woken a little late by a busy CPU then does not lose link
        # time the real link would not lose. Over a long run it lets through at
        # most that one burst more than the rate allows.
        # 0 means no cap, as upload.bandwidth_kbps 0 does in the car. A bucket of rate 0 raised
        # ZeroDivisionError in the relay thread, which died and left the car waiting forever.
        burst = max(CHUNK, bandwidth_bps / 8 * 0.1)
        capped = bandwidth_bps > 0
        self.up = TokenBucket(bandwidth_bps / 8, burst=burst) if capped else None
        self.down = TokenBucket(bandwidth_bps / 8, burst=burst) if capped else None
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.stats = {"connections": 0, "resets": 0, "bytes_up": 0, "bytes_down": 0, "refused": 0}
        self.down_now = False
        self._conns: list[_Conn] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="linksim", daemon=True)

    def start(self) -> LinkSim:
        self._thread.start()
        return self

    def set_down(self, down: bool) -> None:
        """A tunnel: new connections fail and open ones are reset."""
        self.down_now = down
        if down:
            with self.lock:
                conns, self._conns = self._conns, []
            for conn in conns:
                conn.reset()

    def _accept(self) -> None:
        self._sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.down_now:
                with self.lock:
                    self.stats["refused"] += 1
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                with self.lock:
                    self.stats["refused"] += 1
                client.close()
                continue
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(self, client, upstream)
            with self.lock:
                self.stats["connections"] += 1
                self._conns = [c for c in self._conns if not c.closed.is_set()] + [conn]
            conn.start()

    def stop(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(2)
        with self.lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"
