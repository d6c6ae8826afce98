"""The bandwidth cap: the bucket makes a sender wait exactly as long as the
rate requires (checked on a fake clock, so no timing in the test)."""

import threading

from gateway.upload import throttle
from gateway.upload.throttle import ThrottledBody, TokenBucket


class FakeTime:
    def __init__(self):
        self.now = 0.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_bucket_holds_the_rate(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(throttle.time, "sleep", fake.sleep)
    bucket = TokenBucket(rate=10_000, burst=1000, clock=fake.clock)
    for _ in range(100):
        bucket.consume(1000)
    # 100 kB at 10 kB/s, less the first burst that was already in the bucket.
    assert abs(fake.now - 9.9) < 0.01


def test_body_reads_everything_in_order_through_the_bucket(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr(throttle.time, "sleep", fake.sleep)
    data = bytes(range(256)) * 400
    body = ThrottledBody(data, TokenBucket(rate=50_000, burst=4096, clock=fake.clock))
    assert len(body) == len(data)
    out = b"".join(iter(lambda: body.read(8192), b""))
    assert out == data
    assert abs(fake.now - (len(data) - 4096) / 50_000) < 0.01


def test_body_without_cap_does_not_wait():
    body = ThrottledBody(b"x" * 100_000, None, threading.Event())
    assert len(b"".join(iter(lambda: body.read(10_000), b""))) == 100_000
