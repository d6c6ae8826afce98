"""Exponential backoff with full jitter: after the k-th failure in a row, wait
a random time in [0, min(cap, base * 2**k)] so that many cars coming out of
the same tunnel do not all retry at the same instant."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, base_s: float = 0.5, cap_s: float = 300.0, rng: random.Random | None = None):
        self.base_s = base_s
        self.cap_s = cap_s
        self.failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.cap_s, self.base_s * (2 ** min(self.failures, 30)))
        self.failures += 1
        # Never below a tenth of the base, so a dead link is not hammered.
        return max(self.base_s / 10, self._rng.uniform(0, ceiling))

    def reset(self) -> None:
        self.failures = 0
