"""A simulated serial line between two pseudo-terminals, with a baud rate and noise.

    line = Line(baud=921600, bit_error_rate=1e-6, drop_rate=0, insert_rate=0)
    line.board_port, line.gateway_port    # slave paths: the board opens one, the gateway the other
    line.start(); ...; line.stop()

Bytes are relayed both ways by two threads. With a baud rate, each direction
is paced to baud/10 bytes per second (8N1). Noise: each bit flips with
probability bit_error_rate; each byte is dropped, or followed by a random
byte, with drop_rate / insert_rate. What was injected is counted in `stats`.
"""

from __future__ import annotations

import errno
import os
import select
import threading
import time
import tty

import numpy as np


class Line:
    def __init__(self, baud: int | None = None, bit_error_rate: float = 0.0,
                 drop_rate: float = 0.0, insert_rate: float = 0.0, seed: int | None = None):
        self.baud = baud
        self.ber = bit_error_rate
        self.drop_rate = drop_rate
        self.insert_rate = insert_rate
        self.noise = Noise(bit_error_rate, drop_rate, insert_rate, seed)
        self._board_master, self._board_slave = os.openpty()
        self._gw_master, self._gw_slave = os.openpty()
        # Raw from the start: a cooked pty would echo and mangle bytes before a port opens it.
        for fd in (self._board_master, self._board_slave, self._gw_master, self._gw_slave):
            tty.setraw(fd)
        self.board_port = os.ttyname(self._board_slave)
        self.gateway_port = os.ttyname(self._gw_slave)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._counts = {"to_gateway": 0, "to_board": 0}

    @property
    def stats(self) -> dict[str, int]:
        return {**self._counts, **self.noise.stats}

    def start(self) -> Line:
        for src, dst, key in ((self._board_master, self._gw_master, "to_gateway"),
                              (self._gw_master, self._board_master, "to_board")):
            t = threading.Thread(target=self._pump, args=(src, dst, key), daemon=True,
                                 name=f"line-{key}")
            t.start()
            self._threads.append(t)
        return self

    def impair(self, data: bytes) -> bytes:
        return self.noise.impair(data)

    def _pump(self, src: int, dst: int, key: str) -> None:
        rate = self.baud / 10 if self.baud else None
        next_free = time.monotonic()
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([src], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(src, 4096 if rate is None else max(1, min(4096, int(rate / 100))))
            except OSError as exc:
                if exc.errno in (errno.EIO, errno.EBADF):
                    return
                raise
            if rate is not None:
                now = time.monotonic()
                next_free = max(next_free, now) + len(data) / rate
                delay = next_free - now
                if delay > 0:
                    time.sleep(delay)
            self._counts[key] += len(data)
            data = self.impair(data)
            try:
                view = memoryview(data)
                while view and not self._stop.is_set():
                    _, writable, _ = select.select([], [dst], [], 0.1)
                    if writable:
                        view = view[os.write(dst, view):]
            except OSError:
                return

    def stop(self) -> None:
        if self._stop.is_set():
            return  # closing the descriptors twice could close other files that reused their numbers
        self._stop.set()
        for t in self._threads:
            t.join(1.0)
        for fd in (self._board_master, self._board_slave, self._gw_master, self._gw_slave):
            try:
                os.close(fd)
            except OSError:
                pass


class Noise:
    """Line noise: bit flips, dropped bytes, inserted bytes, each with a probability."""

    def __init__(self, bit_error_rate: float = 0.0, drop_rate: float = 0.0,
                 insert_rate: float = 0.0, seed: int | None = None):
        self.ber = bit_error_rate
        self.drop_rate = drop_rate
        self.insert_rate = insert_rate
        self._rng = np.random.default_rng(seed)
        self._rng_lock = threading.Lock()
        self.stats = {"bits_flipped": 0, "bytes_dropped": 0, "bytes_inserted": 0}

    def impair(self, data: bytes) -> bytes:
        """Apply the configured noise to one block of bytes."""
        if not (self.ber or self.drop_rate or self.insert_rate) or not data:
            return data
        with self._rng_lock:
            rng = self._rng
            buf = np.frombuffer(data, np.uint8).copy()
            if self.ber:
                flips = rng.binomial(len(buf) * 8, self.ber)
                if flips:
                    pos = rng.integers(0, len(buf) * 8, flips)
                    np.bitwise_xor.at(buf, pos // 8, (1 << (pos % 8)).astype(np.uint8))
                    self.stats["bits_flipped"] += int(flips)
            keep = np.ones(len(buf), bool)
            if self.drop_rate:
                keep = rng.random(len(buf)) >= self.drop_rate
                self.stats["bytes_dropped"] += int((~keep).sum())
            out = buf[keep]
            if self.insert_rate and len(out):
                n = rng.binomial(len(out), self.insert_rate)
                if n:
                    at = np.sort(rng.integers(0, len(out), n))
                    out = np.insert(out, at, rng.integers(0, 256, n).astype(np.uint8))
                    self.stats["bytes_inserted"] += int(n)
            return out.tobytes()
