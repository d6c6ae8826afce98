"""Frames built by MicroPython are read by the gateway, and the other way round."""

from __future__ import annotations

import hashlib
import hmac

from _mp_helpers import run_mp

from shared import cbor, messages
from shared.framing import FLAG_FROM_GATEWAY, FrameDecoder, FrameEncoder
from shared.hmac256 import Hmac

KEY = bytes(range(32))


def test_hmac_matches_cpython_hmac_on_micropython(micropython_bin):
    out = run_mp(micropython_bin, """
import binascii
from shared.hmac256 import Hmac
for key in (b"", b"k", bytes(range(64)), bytes(range(100))):
    for msg in (b"", b"abc", bytes(1000)):
        print(binascii.hexlify(Hmac(key).digest(msg)).decode())
""")
    want = [hmac.new(key, msg, hashlib.sha256).hexdigest()
            for key in (b"", b"k", bytes(range(64)), bytes(range(100)))
            for msg in (b"", b"abc", bytes(1000))]
    assert out.split() == want


def test_micropython_frames_decode_on_cpython(micropython_bin):
    out = run_mp(micropython_bin, """
import binascii
from shared import cbor, messages
from shared.framing import FrameEncoder
enc = FrameEncoder(bytes(range(32)), 4200)
jpeg = bytearray(3000)
for i in range(3000):
    jpeg[i] = (i * 7) & 0xFF
head = bytearray(messages.CHUNK_HEAD_LEN)
messages.pack_chunk_head(head, 5, 1000)
out = bytearray()
out.extend(enc.encode(messages.HELLO, cbor.dumps({"board_id": "b"})))
out.extend(enc.encode(messages.CHUNK, head, memoryview(jpeg)[1000:3000]))
print(binascii.hexlify(out).decode())
""")
    wire = bytes.fromhex(out.strip())
    got = []
    dec = FrameDecoder()
    mac = Hmac(KEY)

    def on(d):
        assert d.check_mac(mac)
        got.append((d.mtype, bytes(d.payload)))

    dec.feed(wire, on)
    assert [g[0] for g in got] == [messages.HELLO, messages.CHUNK]
    assert cbor.loads(got[0][1]) == {"board_id": "b"}
    assert messages.unpack_chunk_head(got[1][1]) == (5, 1000)
    assert got[1][1][messages.CHUNK_HEAD_LEN:] == bytes((i * 7) & 0xFF for i in range(1000, 3000))
    assert dec.error_count() == 0


def test_gateway_frames_decode_on_micropython_and_forgeries_are_refused(micropython_bin):
    good = FrameEncoder(KEY, from_gateway=True)
    forged = FrameEncoder(b"x" * 32, from_gateway=True)
    wire = b"garbage\x01\x02" + bytes(good.encode(messages.ACK, cbor.dumps({"xfer": 1, "offset": 9})))
    wire += bytes(forged.encode(messages.ACK, cbor.dumps({"xfer": 2, "offset": 9})))
    corrupted = bytearray(good.encode(messages.NACK, cbor.dumps({"xfer": 3, "offset": 0, "missing": []})))
    corrupted[5] ^= 0x10
    wire += bytes(corrupted)
    wire += bytes(good.encode(messages.COMMAND, cbor.dumps({"id": 1, "cmd": "status", "args": {}})))
    out = run_mp(micropython_bin, """
import sys, binascii
from shared import cbor
from shared.framing import FrameDecoder
from shared.hmac256 import Hmac
mac = Hmac(bytes(range(32)))
dec = FrameDecoder(2048)
data = bytearray(binascii.unhexlify(sys.stdin.readline().strip()))
def on(d):
    if d.check_mac(mac):
        print("frame", d.mtype, d.flags, cbor.loads(bytes(d.payload)))
# fed in small pieces, as a UART delivers it
for i in range(0, len(data), 7):
    piece = data[i:i + 7]
    dec.feed(piece, on, len(piece))
print("errors", dec.errors["mac"], dec.errors["crc"] + dec.errors["cobs"])
""", wire.hex().encode())
    lines = out.splitlines()
    assert lines[0].startswith(f"frame {messages.ACK} {FLAG_FROM_GATEWAY}")
    assert lines[1].startswith(f"frame {messages.COMMAND}")
    assert lines[2] == "errors 1 2"  # the forged frame; the garbage and the corrupted frame
