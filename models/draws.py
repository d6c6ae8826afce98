"""Random draws the training data shares.

Sizes (a plate's width, a crop's zoom) are drawn log-uniformly: each doubling
of size is as likely as the next, so small plates are as well represented as
large ones, which a uniform draw over pixels would starve.
"""

from __future__ import annotations

import numpy as np


def log_uniform(rng: np.random.Generator, low: float, high: float, size: int | None = None):
    """A value (or `size` values) between low and high, uniform in log scale."""
    return np.exp(rng.uniform(np.log(low), np.log(high), size))
