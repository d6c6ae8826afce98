"""Retry delays: exponential, capped, jittered, and reset after a success."""

import random

from gateway.upload.backoff import Backoff


def test_delays_grow_then_stay_under_the_cap():
    backoff = Backoff(base_s=0.5, cap_s=8.0, rng=random.Random(1))
    ceilings = [min(8.0, 0.5 * 2**k) for k in range(12)]
    delays = [backoff.next_delay() for _ in range(12)]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert 0.05 <= delay <= ceiling


def test_jitter_spreads_cars_apart():
    delays = {round(Backoff(1.0, 60.0, random.Random(seed)).next_delay() + 0 * seed, 6)
              for seed in range(20)}
    assert len(delays) > 10


def test_reset_starts_again_from_the_base():
    backoff = Backoff(base_s=1.0, cap_s=100.0, rng=random.Random(3))
    for _ in range(10):
        backoff.next_delay()
    backoff.reset()
    assert backoff.failures == 0
    assert backoff.next_delay() <= 1.0
