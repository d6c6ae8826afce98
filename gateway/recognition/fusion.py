"""Fusing the frames of one vehicle pass into one read.

A board sends a burst of frames per trigger. Every plate read in those frames
is an `Observation`. When a burst is complete (its last frame arrived, or no
frame of it came for `burst_timeout_s`), its observations are grouped by
vehicle (similar readings), and each group either joins the open pass of the
same vehicle on that board (a later burst within `pass_gap_s`) or starts a new
pass. Each closed burst yields `PassUpdate`s: `new` for a pass seen for the
first time (to store at once, so an alert is not delayed), `update` when a
later burst of the same vehicle changed its fused result.

The fused result votes over every observation's ranked candidates, weighted
by their scores: the best text, a confidence (mean support per frame), the
other candidates, and the crop and frame of the most confident observation of
the best text.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field

import numpy as np

from gateway.recognition.formats import BestOfRanked

logger = logging.getLogger(__name__)


@dataclass
class Observation(BestOfRanked):
    board_id: str
    trigger_id: int
    index: int
    captured_at: float
    candidates: list[tuple[str, float]]  # ranked, best first
    char_confidence: list[float] = field(default_factory=list)
    box: tuple[int, int, int, int] = (0, 0, 0, 0)
    crop: np.ndarray | None = None
    frame_jpeg: bytes | None = None
    state: str = ""


@dataclass
class FusedRead:
    text: str
    confidence: float
    candidates: list[tuple[str, float]]
    best: Observation  # gives crop, frame, box, time, board, char confidences
    frames: int


@dataclass
class PassUpdate:
    kind: str  # new | update
    pass_id: int
    read: FusedRead
    burst_last_at: float = 0.0  # when the burst's last frame arrived (for latency figures)


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def same_vehicle(a: list[Observation], b: list[Observation]) -> bool:
    """Two groups of readings are one plate if their readings nearly agree."""
    texts_a = {t for o in a for t, _ in o.candidates[:3]}
    texts_b = {t for o in b for t, _ in o.candidates[:3]}
    if texts_a & texts_b:
        return True
    return any(edit_distance(x.text, y.text) <= max(1, len(x.text) // 4) for x in a for y in b)


def fuse(observations: list[Observation], limit: int = 5) -> FusedRead:
    votes: dict[str, float] = {}
    for obs in observations:
        for text, score in obs.candidates:
            votes[text] = votes.get(text, 0.0) + score
    ranked = sorted(votes.items(), key=lambda kv: -kv[1])
    n = len(observations)
    candidates = [(text, min(1.0, v / n)) for text, v in ranked[:limit]]
    text, confidence = candidates[0]
    holders = [o for o in observations if any(t == text for t, _ in o.candidates)]
    best = max(holders, key=lambda o: dict(o.candidates)[text])
    return FusedRead(text, confidence, candidates, best, n)


def same_place(a: Observation, b: Observation) -> bool:
    """Within a burst (a fraction of a second) a plate barely moves: one box holds the other's centre."""
    def holds(box, other):
        cx, cy = other[0] + other[2] / 2, other[1] + other[3] / 2
        return box[0] <= cx <= box[0] + box[2] and box[1] <= cy <= box[1] + box[3]

    return holds(a.box, b.box) or holds(b.box, a.box)


def group(observations: list[Observation]) -> list[list[Observation]]:
    """Observations of one burst grouped by vehicle (similar text or the same place);
    plates in one frame are always apart."""
    groups: list[list[Observation]] = []
    for obs in sorted(observations, key=lambda o: -o.confidence):
        for g in groups:
            if all(o.index != obs.index for o in g) and (
                    same_vehicle(g, [obs]) or any(same_place(o, obs) for o in g)):
                g.append(obs)
                break
        else:
            groups.append([obs])
    return groups


@dataclass
class _Burst:
    board_id: str
    trigger_id: int
    size: int
    last_at: float
    seen: set[int] = field(default_factory=set)
    observations: list[Observation] = field(default_factory=list)


@dataclass
class _Pass:
    pass_id: int
    board_id: str
    observations: list[Observation]
    fused: FusedRead
    last_at: float


class PassFuser:
    """Collects observations per burst and turns closed bursts into pass updates."""

    def __init__(self, pass_gap_s: float = 3.0, burst_timeout_s: float = 1.0):
        self.pass_gap_s = pass_gap_s
        self.burst_timeout_s = burst_timeout_s
        self._bursts: dict[tuple[str, int], _Burst] = {}
        self._passes: list[_Pass] = []
        self._ids = itertools.count(1)

    def frame(self, board_id: str, trigger_id: int, index: int, burst: int, now: float,
              observations: list[Observation]) -> list[PassUpdate]:
        """One frame's observations (possibly none, or skipped); closes the burst on its last frame."""
        key = (board_id, trigger_id)
        b = self._bursts.get(key)
        if b is None:
            b = self._bursts[key] = _Burst(board_id, trigger_id, burst, now)
        b.seen.add(index)
        b.last_at = now
        b.observations.extend(observations)
        if index >= b.size - 1 or len(b.seen) >= b.size:
            return self._close(key, now)
        return []

    def poll(self, now: float) -> list[PassUpdate]:
        """Close bursts whose remaining frames never came; forget passes past the gap."""
        updates = []
        for key, b in list(self._bursts.items()):
            if now - b.last_at >= self.burst_timeout_s:
                logger.info("burst %s/%d closed after %d of %d frames", b.board_id, b.trigger_id,
                            len(b.seen), b.size)
                updates += self._close(key, now)
        self._passes = [p for p in self._passes if now - p.last_at <= self.pass_gap_s]
        return updates

    def pending(self) -> int:
        return len(self._bursts)

    def _close(self, key, now: float) -> list[PassUpdate]:
        b = self._bursts.pop(key)
        updates = []
        for g in group([o for o in b.observations if o.candidates]):
            open_pass = next((p for p in self._passes if p.board_id == b.board_id
                              and now - p.last_at <= self.pass_gap_s
                              and same_vehicle(p.observations, g)), None)
            if open_pass is None:
                fused = fuse(g)
                p = _Pass(next(self._ids), b.board_id, g, fused, now)
                self._passes.append(p)
                updates.append(PassUpdate("new", p.pass_id, fused, b.last_at))
                continue
            open_pass.observations.extend(g)
            open_pass.last_at = now
            fused = fuse(open_pass.observations)
            open_pass.fused = fused
            updates.append(PassUpdate("update", open_pass.pass_id, fused, b.last_at))
        return updates
