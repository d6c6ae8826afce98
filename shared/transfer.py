"""The sending side of a frame transfer, as a state machine with no I/O.

The board's firmware drives it from asyncio, the link bench synchronously:

    s = Sender(encoder, chunk=2048)
    s.start(xfer, meta_cbor, jpeg_view, total)
    while not s.finished():
        wire = s.next_frame()          # a memoryview to write, or None
        if wire is None: wait for an answer (s.on_ack / s.on_nack),
                         or, after a timeout, s.poll()
    s.succeeded()

A transfer opens with a FRAME message (its metadata); chunks follow, and
each round ends with a small POLL (transfer id, round number). The gateway
answers each poll with an ACK (all received) or a NACK listing the missing
ranges, which are resent alone in the next round. Answers carry the round
they answer; stale ones (to an earlier poll) are ignored, except an ACK of
the whole frame, which is final. A lost chunk costs only its resending and
one answer; a lost poll or answer costs a timeout and a new poll. After
`max_rounds` rounds the transfer fails: the caller counts a drop.

The chunk size adapts to the line: halved (down to MIN_CHUNK) when a round
loses more than a third of its chunks, doubled back (up to the configured
size) after a transfer that needed no resend.
"""

import struct

from shared import messages
from shared.framing import FLAG_LAST, FLAG_RETRANSMIT

MIN_CHUNK = 256
# CBOR {"xfer": u32, "round": u32}: map(2), text(4) "xfer", 0x1a + 4 bytes,
# text(5) "round", 0x1a + 4 bytes (fixed-width integers are valid CBOR).
_POLL_TEMPLATE = b"\xa2\x64xfer\x1a\x00\x00\x00\x00\x65round\x1a\x00\x00\x00\x00"
_POLL_XFER = 7
_POLL_ROUND = 18


class Sender:
    def __init__(self, encoder, chunk=2048, max_rounds=40):
        self.encoder = encoder
        self.chunk = chunk
        self.max_chunk = chunk
        self.max_rounds = max_rounds
        self._head = bytearray(messages.CHUNK_HEAD_LEN)
        self._poll = bytearray(_POLL_TEMPLATE)
        self.active = False
        self.done = False
        self.failed = False
        self.rounds = 0
        self.retransmits = 0
        self.xfer = 0
        self._meta = b""
        self._data = None
        self.total = 0
        self._ranges = []
        self._need_meta = False
        self._need_poll = False
        self._round_chunks = 0

    def start(self, xfer, meta, data, total):
        self.xfer = xfer
        self._meta = meta
        self._data = data
        self.total = total
        self._ranges = [[0, total]] if total else []
        self._need_meta = True
        self._need_poll = True
        self.active = True
        self.done = False
        self.failed = False
        self.rounds = 0
        self.retransmits = 0
        self._round_chunks = 0

    def finished(self):
        return self.done or self.failed

    def succeeded(self):
        return self.done

    def waiting(self):
        """True when the round is sent, poll included, and an answer is due."""
        return self.active and not self._need_meta and not self._ranges and not self._need_poll

    def next_frame(self):
        if not self.active:
            return None
        if self._need_meta:
            self._need_meta = False
            return self.encoder.encode(messages.FRAME, self._meta, None,
                                       FLAG_RETRANSMIT if self.rounds else 0)
        if self._ranges:
            return self._chunk()
        if self._need_poll:
            self._need_poll = False
            return self.encoder.encode(messages.POLL, self._poll_msg())
        return None

    def _poll_msg(self):
        # {"xfer": x, "round": r} as CBOR in a preallocated buffer: a poll ends
        # every round, and cbor.dumps would build a dict and a bytearray for each.
        struct.pack_into(">I", self._poll, _POLL_XFER, self.xfer)
        struct.pack_into(">I", self._poll, _POLL_ROUND, self.rounds)
        return self._poll

    def _chunk(self):
        rng = self._ranges[0]
        off = rng[0]
        end = off + self.chunk
        if end >= rng[1]:
            end = rng[1]
            self._ranges.pop(0)
        else:
            rng[0] = end
        flags = FLAG_RETRANSMIT if self.rounds else 0
        self._round_chunks += 1
        if not self._ranges:
            flags |= FLAG_LAST
        messages.pack_chunk_head(self._head, self.xfer, off)
        return self.encoder.encode(messages.CHUNK, self._head, self._data[off:end], flags)

    def on_ack(self, xfer, offset, rnd=None):
        if not self.active or xfer != self.xfer:
            return
        if offset >= self.total:
            self.active = False
            self.done = True
            if self.rounds == 0 and self.chunk < self.max_chunk:
                self.chunk = min(self.max_chunk, self.chunk * 2)
            return
        if rnd != self.rounds or not self.waiting():
            return
        # A partial ack: resume from the offset (after a link outage, say).
        self._next_round([[offset, self.total]])

    def on_nack(self, xfer, offset, missing, rnd=None):
        if not self.active or xfer != self.xfer or rnd != self.rounds or not self.waiting():
            return
        ranges = []
        for item in missing:
            start = item[0]
            end = start + item[1]
            if 0 <= start < end <= self.total:
                ranges.append([start, end])
        if offset < 0:
            self._need_meta = True  # the gateway never saw the FRAME message
            ranges = [[0, self.total]] if self.total else []
        elif not ranges:
            ranges = [[offset, self.total]]
        lost = 0
        for r in ranges:
            lost += (r[1] - r[0] + self.chunk - 1) // self.chunk
        if self._round_chunks and lost * 3 > self._round_chunks and self.chunk > MIN_CHUNK:
            self.chunk = max(MIN_CHUNK, self.chunk // 2)
        self._next_round(ranges)

    def poll(self):
        """No answer in time: poll again, as a new round."""
        if not self.active:
            return
        self._need_poll = True
        self._count_round()

    def _next_round(self, ranges):
        for r in ranges:
            self.retransmits += r[1] - r[0]
        self._ranges = ranges
        self._need_poll = True
        self._round_chunks = 0
        self._count_round()

    def _count_round(self):
        self.rounds += 1
        if self.rounds > self.max_rounds:
            self.active = False
            self.failed = True
