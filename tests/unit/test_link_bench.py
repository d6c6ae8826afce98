"""The link bench's integrity accounting on a very noisy line (figures come from the bench)."""

from __future__ import annotations

from tools.bench.link import FRAMES, load_jpegs, measure


def test_noisy_line_never_accepts_corruption_or_loses_silently():
    r = measure(921600, 3e-4, 12, load_jpegs(FRAMES), chunk=2048, seed=7)
    assert r["bits_flipped"] > 0
    assert r["frames_corrupt_accepted"] == 0
    assert r["frames_lost_uncounted"] == 0
    assert r["frames_delivered_intact"] + r["frames_lost_counted"] == r["frames_sent"] == 12
    assert r["gateway_errors"]  # the corruption was seen and counted


def test_the_bench_board_stamps_frames_with_a_time_the_gateway_accepts(caplog):
    """The simulated clock starts at 0: sent as is, every run warned that the board's clock was
    unset ("check the board's firmware") and the gateway replaced each frame's time."""
    import logging

    with caplog.at_level(logging.WARNING):
        r = measure(921600, 0.0, 3, load_jpegs(FRAMES), seed=7)
    assert r["frames_delivered_intact"] == 3
    assert not [rec for rec in caplog.records if "capture time" in rec.getMessage()]
