"""What the link hands to recognition: one complete, authenticated JPEG frame."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReceivedFrame:
    board_id: str
    trigger_id: int
    index: int  # position in the burst, 0-based
    burst: int  # frames the board meant to send for this trigger
    captured_at: float  # capture time, seconds since the epoch (board clock, synced by the gateway)
    exposure_us: int
    gain_db: float
    jpeg: bytes
    received_at: float  # gateway clock, time.time()
    sha256: str  # hex digest of `jpeg`
