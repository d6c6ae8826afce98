"""Reassembly of frame transfers, and the board's Sender against it, in and out of order."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from gateway.link.reassembly import Reassembler, Transfer
from shared import messages
from shared.framing import FrameEncoder
from shared.transfer import Sender


def test_transfer_tracks_ranges_out_of_order():
    t = Transfer(1, {}, 10, bytearray(10))
    t.add(6, b"6789")
    t.add(0, b"01")
    assert t.missing() == [[2, 4]]
    assert t.contiguous() == 2
    t.add(2, b"2345")
    assert t.complete() and bytes(t.data) == b"0123456789"
    assert not t.add(8, b"xyz")  # past the end


@given(st.lists(st.tuples(st.integers(0, 99), st.integers(1, 30)), max_size=40))
def test_missing_is_the_complement_of_received(chunks):
    t = Transfer(1, {}, 100, bytearray(100))
    have = set()
    for off, n in chunks:
        n = min(n, 100 - off)
        t.add(off, bytes(n))
        have.update(range(off, off + n))
    missing = set()
    for off, n in t.missing(limit=1000):
        missing.update(range(off, off + n))
    assert missing == set(range(100)) - have
    assert t.complete() == (len(have) == 100)


def test_reassembler_answers_and_delivers_once():
    r = Reassembler(1000)
    meta = {"xfer": 3, "total": 6}
    assert r.on_meta(meta) is None
    answer, done = r.on_chunk(3, 3, b"def")
    assert done is None and answer is None
    assert r.on_poll(3, 0) == {"type": messages.NACK, "xfer": 3, "offset": 0,
                               "missing": [[0, 3]], "round": 0}
    answer, done = r.on_chunk(3, 0, b"abc")
    assert answer["type"] == messages.ACK and bytes(done.data) == b"abcdef"
    # a resent chunk or poll after completion is acked again, never delivered twice
    answer, done = r.on_chunk(3, 0, b"abc")
    assert answer is None and done is None
    assert r.on_poll(3, 1) == {"type": messages.ACK, "xfer": 3, "offset": 6, "round": 1}
    assert r.on_meta(meta) == {"type": messages.ACK, "xfer": 3, "offset": 6}


def test_lost_metadata_is_asked_for_and_limits_hold():
    r = Reassembler(100, max_open=2)
    assert r.on_chunk(9, 0, b"x") == (None, None)
    assert r.on_poll(9, 0)["offset"] == -1
    for x in range(4):
        r.on_meta({"xfer": x, "total": 10})
    assert len(r.open) == 2 and r.counters["abandoned"] == 2
    r.on_meta({"xfer": 50, "total": 101})
    assert r.counters["oversize"] == 1 and 50 not in r.open


@given(st.integers(0, 2 ** 32 - 1), st.floats(0.0, 0.4))
def test_sender_and_reassembler_deliver_through_loss(seed, loss):
    rng = random.Random(seed)
    data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 9000)))
    from shared import cbor
    from shared.framing import FrameDecoder

    enc = FrameEncoder(b"k" * 32)
    s = Sender(enc, chunk=512, max_rounds=200)
    r = Reassembler(100_000)
    s.start(7, cbor.dumps({"xfer": 7, "total": len(data)}), memoryview(data), len(data))
    dec = FrameDecoder()
    delivered = []

    def on(d):
        if d.mtype == messages.FRAME:
            ans = r.on_meta(cbor.loads(bytes(d.payload)))
        elif d.mtype == messages.POLL:
            msg = cbor.loads(bytes(d.payload))
            ans = r.on_poll(msg["xfer"], msg["round"])
        else:
            xfer, off = messages.unpack_chunk_head(d.payload)
            ans, done = r.on_chunk(xfer, off, bytes(d.payload[6:]))
            if done is not None:
                delivered.append(bytes(done.data))
        if ans is not None and rng.random() >= loss:
            if ans["type"] == messages.ACK:
                s.on_ack(ans["xfer"], ans["offset"], ans.get("round"))
            else:
                s.on_nack(ans["xfer"], ans["offset"], ans["missing"], ans.get("round"))

    while not s.finished():
        wire = s.next_frame()
        if wire is None:
            s.poll()
            continue
        if rng.random() >= loss:
            dec.feed(bytes(wire), on)
    assert s.succeeded()
    assert delivered == [data]
