"""A token bucket for the bandwidth cap on metered links, and a request body
that draws from it as http.client reads it, so the cap holds on the wire."""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """`rate` bytes per second shared by every connection; burst of `burst` bytes."""

    def __init__(self, rate: float, burst: float | None = None, clock=time.monotonic):
        if not rate > 0:
            # A bucket that never refills would block its caller forever (or divide by zero);
            # 'no cap' is no bucket at all, as the uploader does for upload.bandwidth_kbps 0.
            raise ValueError(f"a token bucket needs a rate above 0 bytes/s, not {rate}")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(4096.0, rate / 10))
        self._tokens = self.burst
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def consume(self, amount: int, stop: threading.Event | None = None) -> None:
        """Block until `amount` bytes may pass (larger amounts pass in burst-sized steps)."""
        remaining = float(amount)
        while remaining > 0:
            step = min(remaining, self.burst)
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                # The small tolerance stops float rounding from asking for a sleep
                # too short to move the clock.
                if self._tokens >= step - 1e-6:
                    self._tokens -= step
                    remaining -= step
                    continue
                wait = (step - self._tokens) / self.rate
            if stop is not None:
                if stop.wait(wait):
                    return
            else:
                time.sleep(wait)


class ThrottledBody:
    """A file-like request body; requests sends it with a Content-Length."""

    def __init__(self, data: bytes, bucket: TokenBucket | None, stop: threading.Event | None = None):
        self._data = memoryview(data)
        self._pos = 0
        self._bucket = bucket
        self._stop = stop
        self.len = len(data)  # requests' super_len reads this

    def __len__(self) -> int:
        return self.len

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.len - self._pos
        size = min(size, 16 * 1024, self.len - self._pos)
        if size <= 0:
            return b""
        if self._bucket is not None:
            self._bucket.consume(size, self._stop)
        chunk = bytes(self._data[self._pos : self._pos + size])
        self._pos += size
        return chunk
