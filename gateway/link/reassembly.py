"""Reassembling a board's frame transfers from chunks, out of order and resent.

One Reassembler per board. It answers the board's polls with an ACK or a
NACK (missing ranges), acks a transfer as soon as it completes, and returns
each completed JPEG exactly once. Memory is bounded: at most `max_open` transfers are held;
opening another abandons the oldest, which is counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from shared import messages

logger = logging.getLogger(__name__)


@dataclass
class Transfer:
    xfer: int
    meta: dict
    total: int
    data: bytearray
    ranges: list[list[int]] = field(default_factory=list)  # received [start, end), merged

    def add(self, offset: int, chunk: bytes) -> bool:
        end = offset + len(chunk)
        if offset < 0 or end > self.total or not chunk:
            return False
        self.data[offset:end] = chunk
        merged: list[list[int]] = []
        placed = False
        for start, stop in self.ranges:
            if stop < offset:
                merged.append([start, stop])
            elif start > end:
                if not placed:
                    merged.append([offset, end])
                    placed = True
                merged.append([start, stop])
            else:
                offset, end = min(start, offset), max(stop, end)
        if not placed:
            merged.append([offset, end])
        merged.sort()
        self.ranges = merged
        return True

    def complete(self) -> bool:
        return self.ranges == [[0, self.total]] or self.total == 0

    def contiguous(self) -> int:
        return self.ranges[0][1] if self.ranges and self.ranges[0][0] == 0 else 0

    def missing(self, limit: int = messages.MAX_MISSING) -> list[list[int]]:
        gaps: list[list[int]] = []
        pos = 0
        for start, stop in self.ranges:
            if start > pos:
                gaps.append([pos, start - pos])
            pos = stop
        if pos < self.total:
            gaps.append([pos, self.total - pos])
        return gaps[:limit]


class Reassembler:
    def __init__(self, max_frame_bytes: int, max_open: int = 4, remember: int = 32):
        self.max_frame_bytes = max_frame_bytes
        self.max_open = max_open
        self.remember = remember
        self.open: dict[int, Transfer] = {}
        self.done: dict[int, int] = {}  # recently completed transfer id -> total, to re-ack
        self.counters = {"abandoned": 0, "oversize": 0, "bad_meta": 0, "bad_chunk": 0,
                         "completed": 0, "duplicate_chunks": 0}

    def reset(self) -> None:
        """The board rebooted: its transfer ids start again."""
        self.counters["abandoned"] += len(self.open)
        self.open.clear()
        self.done.clear()

    def on_meta(self, meta: dict) -> dict | None:
        """A FRAME message; returns the answer to send (ack/nack map) or None."""
        xfer = meta.get("xfer")
        total = meta.get("total")
        if not isinstance(xfer, int) or not isinstance(total, int) or total < 0:
            self.counters["bad_meta"] += 1
            return None
        if xfer in self.done:
            return {"type": messages.ACK, "xfer": xfer, "offset": self.done[xfer]}
        if total > self.max_frame_bytes:
            self.counters["oversize"] += 1
            logger.warning("frame of %d bytes refused (link.max_frame_bytes is %d)",
                           total, self.max_frame_bytes)
            # Acked so the board moves on; counted here as refused.
            return {"type": messages.ACK, "xfer": xfer, "offset": total}
        current = self.open.get(xfer)
        if current is None or current.total != total:
            if len(self.open) >= self.max_open:
                oldest = min(self.open)
                del self.open[oldest]
                self.counters["abandoned"] += 1
            current = Transfer(xfer, dict(meta), total, bytearray(total))
            self.open[xfer] = current
        return None

    def forget(self, xfer: int) -> None:
        """A completed transfer that could not be delivered: polls for it are no longer acked."""
        self.done.pop(xfer, None)

    def on_poll(self, xfer: int, rnd: int) -> dict:
        """The end of a round: the transfer's state, as the answer to that round."""
        if xfer in self.done:
            answer = {"type": messages.ACK, "xfer": xfer, "offset": self.done[xfer]}
        elif xfer in self.open:
            answer = self._answer(self.open[xfer])
        else:
            # The FRAME message was lost (or the gateway restarted): ask for it.
            answer = {"type": messages.NACK, "xfer": xfer, "offset": -1, "missing": []}
        answer["round"] = rnd
        return answer

    def on_chunk(self, xfer: int, offset: int, chunk: bytes):
        """Returns (answer or None, completed Transfer or None)."""
        if xfer in self.done:
            self.counters["duplicate_chunks"] += 1
            return None, None
        current = self.open.get(xfer)
        if current is None:
            return None, None  # the FRAME message was lost: the poll will ask for it
        if not current.add(offset, chunk):
            self.counters["bad_chunk"] += 1
        finished = None
        if current.complete():
            del self.open[xfer]
            self.done[xfer] = current.total
            while len(self.done) > self.remember:
                del self.done[next(iter(self.done))]
            self.counters["completed"] += 1
            finished = current
            return {"type": messages.ACK, "xfer": xfer, "offset": current.total}, finished
        return None, None

    def _answer(self, t: Transfer) -> dict:
        if t.complete():
            return {"type": messages.ACK, "xfer": t.xfer, "offset": t.total}
        return {"type": messages.NACK, "xfer": t.xfer, "offset": t.contiguous(),
                "missing": t.missing()}
