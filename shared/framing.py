"""Frames on the wire: header, payload, truncated HMAC, CRC-32, COBS, 0x00.

    raw    = version u8 | type u8 | flags u8 | seq u32 LE | payload | mac[8] | crc32 u32 LE
    wire   = COBS(raw) 0x00

The MAC is HMAC-SHA256(key, version..payload) truncated to 8 bytes (the
board key for hello and welcome, the session key for everything else); the
CRC-32 covers everything before it, so line noise is caught cheaply before a
MAC is computed. The encoder and the decoder own preallocated buffers: on the
board a frame costs no buffer allocation.
"""

import binascii
import struct

from shared import PROTOCOL_VERSION
from shared.cobs import decode_into, encode_into, max_encoded_len
from shared.hmac256 import Hmac, equal

HEADER_LEN = 7
MAC_LEN = 8
CRC_LEN = 4
OVERHEAD = HEADER_LEN + MAC_LEN + CRC_LEN
MAX_PAYLOAD = 4200  # a 4096-byte chunk plus its chunk header and slack

# flags
FLAG_FROM_GATEWAY = 0x01  # set on every gateway-to-board frame; stops reflection
FLAG_RETRANSMIT = 0x02
FLAG_LAST = 0x04  # last chunk of a transfer

ERROR_KINDS = ("overlong", "cobs", "short", "crc", "version", "mac", "replay")


class FrameEncoder:
    """Builds wire frames in one preallocated buffer; not reentrant.

    encode() returns a memoryview into the encoder's buffer, valid until the
    next call: write it out before encoding the next frame.
    """

    @staticmethod
    def buffer_bytes(max_payload):
        """What __init__ allocates for `max_payload`: a memory budget counts it from here."""
        return OVERHEAD + max_payload + max_encoded_len(OVERHEAD + max_payload) + 2

    def __init__(self, key, max_payload=MAX_PAYLOAD, from_gateway=False):
        self.max_payload = max_payload
        self._raw = bytearray(OVERHEAD + max_payload)
        self._raw_mv = memoryview(self._raw)
        self._out = bytearray(max_encoded_len(OVERHEAD + max_payload) + 2)
        self._out_mv = memoryview(self._out)
        self._mac = Hmac(key)
        self._dir = FLAG_FROM_GATEWAY if from_gateway else 0
        self.seq = 0

    def set_key(self, key):
        self._mac = Hmac(key)

    def encode(self, mtype, head, body=None, flags=0, mac=None):
        """Frame `head` (bytes) followed by optional `body` (a buffer) as one message.

        `mac` (an Hmac) overrides the encoder's key for this frame (hello, welcome).
        """
        raw = self._raw
        hlen = len(head)
        blen = len(body) if body is not None else 0
        plen = hlen + blen
        if plen > self.max_payload:
            raise ValueError("payload too long")
        self.seq = (self.seq + 1) & 0xFFFFFFFF
        struct.pack_into("<BBBI", raw, 0, PROTOCOL_VERSION, mtype, flags | self._dir, self.seq)
        p = HEADER_LEN
        raw[p:p + hlen] = head
        p += hlen
        if blen:
            raw[p:p + blen] = body
            p += blen
        # Views of the preallocated buffer (one small object each, no copy) and
        # the MAC copied byte by byte: a frame allocates nothing else here.
        digest = (mac or self._mac).digest(self._raw_mv[:p])
        for k in range(MAC_LEN):
            raw[p + k] = digest[k]
        p += MAC_LEN
        struct.pack_into("<I", raw, p, binascii.crc32(self._raw_mv[:p]) & 0xFFFFFFFF)
        p += CRC_LEN
        out = self._out
        # A leading delimiter ends whatever garbage the receiver holds.
        out[0] = 0
        n = encode_into(raw, p, out, 1)
        out[n] = 0
        return self._out_mv[:n + 1]


class FrameDecoder:
    """Turns a byte stream into verified frames, resynchronising on 0x00.

    feed(data) calls on_frame(decoder) for every frame whose CRC and version
    check out; inside the callback `mtype`, `flags`, `seq`, `payload` and
    `signed` (header+payload, what the MAC covers) and `mac` are set, as
    memoryviews into the decoder's own buffer (copy what you keep). MACs
    are the caller's business (the gateway learns a board's key from its
    hello): see check_mac(). Every rejected frame is counted in `errors`.
    Memory is bounded: a frame longer than max_payload is dropped up to
    the next delimiter.
    """

    @staticmethod
    def buffer_bytes(max_payload):
        """What __init__ allocates for `max_payload`: a memory budget counts it from here."""
        return 2 * max_encoded_len(OVERHEAD + max_payload)

    def __init__(self, max_payload=MAX_PAYLOAD):
        limit = OVERHEAD + max_payload
        self._limit = max_encoded_len(limit)
        self._acc = bytearray(self._limit)
        self._acc_mv = memoryview(self._acc)
        self._n = 0
        self._discard = False
        self._raw = bytearray(self._limit)
        self._raw_mv = memoryview(self._raw)
        self._data = None
        self._data_mv = None
        self.errors = {}
        for kind in ERROR_KINDS:
            self.errors[kind] = 0
        self.frames = 0
        self.mtype = 0
        self.flags = 0
        self.seq = 0
        self.payload = None
        self.signed = None
        self.mac = None

    def error_count(self):
        total = 0
        for kind in self.errors:
            total += self.errors[kind]
        return total

    def feed(self, data, on_frame, n=-1):
        """Consume data[:n] (all of it by default)."""
        if n < 0:
            n = len(data)
        i = 0
        while i < n:
            z = data.find(b"\x00", i, n) if hasattr(data, "find") else _find_zero(data, i, n)
            end = n if z < 0 else z
            seg = end - i
            if self._discard:
                pass
            elif self._n + seg > self._limit:
                self.errors["overlong"] += 1
                self._discard = True
                self._n = 0
            elif seg:
                # A view, not data[i:end]: slicing the board's rx bytearray copied it.
                self._acc[self._n:self._n + seg] = self._view(data)[i:end]
                self._n += seg
            if z < 0:
                return
            if self._discard:
                self._discard = False
            elif self._n:
                self._frame(on_frame)
            self._n = 0
            i = z + 1

    def _view(self, data):
        # The board feeds the same rx buffer every time: one memoryview for it.
        if data is not self._data:
            self._data = data
            self._data_mv = data if isinstance(data, memoryview) else memoryview(data)
        return self._data_mv

    def _frame(self, on_frame):
        m = decode_into(self._acc_mv, self._n, self._raw_mv)
        if m < 0:
            self.errors["cobs"] += 1
            return
        if m < OVERHEAD:
            self.errors["short"] += 1
            return
        raw = self._raw_mv
        body_end = m - CRC_LEN
        want = struct.unpack_from("<I", self._raw, body_end)[0]
        if binascii.crc32(raw[:body_end]) & 0xFFFFFFFF != want:
            self.errors["crc"] += 1
            return
        if self._raw[0] != PROTOCOL_VERSION:
            self.errors["version"] += 1
            return
        mac_at = body_end - MAC_LEN
        self.mtype = self._raw[1]
        self.flags = self._raw[2]
        self.seq = struct.unpack_from("<I", self._raw, 3)[0]
        self.signed = raw[:mac_at]
        self.payload = raw[HEADER_LEN:mac_at]
        self.mac = raw[mac_at:body_end]
        self.frames += 1
        on_frame(self)

    def check_mac(self, hmac_obj):
        """True if the current frame's MAC matches; counts a 'mac' error if not."""
        good = equal(hmac_obj.digest(self.signed)[:MAC_LEN], self.mac)
        if not good:
            self.errors["mac"] += 1
        return good


def _find_zero(data, start, end):
    for i in range(start, end):
        if data[i] == 0:
            return i
    return -1


def seq_newer(seq, last):
    """True if `seq` comes after `last` (u32, wrapping): replays and repeats are not newer."""
    d = (seq - last) & 0xFFFFFFFF
    return 0 < d < 0x80000000
