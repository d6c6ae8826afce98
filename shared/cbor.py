"""A small CBOR (RFC 8949) codec for the board: the subset the protocol uses.

Encodes None, bool, int (64-bit), float (as float64), str, bytes, bytearray,
memoryview, list, tuple and dict. Decodes all of that plus float16/32,
indefinite lengths and tags (the tag number is dropped). Malformed input
raises CborError; nothing else escapes.
"""

import struct


class CborError(ValueError):
    pass


def _head(out, major, n):
    mt = major << 5
    if n < 24:
        out.append(mt | n)
    elif n < 0x100:
        out.append(mt | 24)
        out.append(n)
    elif n < 0x10000:
        out.append(mt | 25)
        out.extend(struct.pack(">H", n))
    elif n < 0x100000000:
        out.append(mt | 26)
        out.extend(struct.pack(">I", n))
    elif n < 0x10000000000000000:
        out.append(mt | 27)
        out.extend(struct.pack(">Q", n))
    else:
        raise CborError("integer too large")


def _enc(out, obj):
    if obj is None:
        out.append(0xF6)
    elif obj is True:
        out.append(0xF5)
    elif obj is False:
        out.append(0xF4)
    elif isinstance(obj, int):
        if obj >= 0:
            _head(out, 0, obj)
        else:
            _head(out, 1, -1 - obj)
    elif isinstance(obj, float):
        out.append(0xFB)
        out.extend(struct.pack(">d", obj))
    elif isinstance(obj, str):
        b = obj.encode("utf-8")
        _head(out, 3, len(b))
        out.extend(b)
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        _head(out, 2, len(obj))
        out.extend(obj)
    elif isinstance(obj, (list, tuple)):
        _head(out, 4, len(obj))
        for item in obj:
            _enc(out, item)
    elif isinstance(obj, dict):
        _head(out, 5, len(obj))
        for key in obj:
            _enc(out, key)
            _enc(out, obj[key])
    else:
        raise CborError("cannot encode " + str(type(obj)))


def dumps(obj):
    out = bytearray()
    _enc(out, obj)
    return bytes(out)


def _half(h):
    exp = (h >> 10) & 0x1F
    mant = h & 0x3FF
    if exp == 0:
        val = mant * 2.0 ** -24
    elif exp == 31:
        val = float("nan") if mant else float("inf")
    else:
        val = (mant + 1024) * 2.0 ** (exp - 25)
    return -val if h & 0x8000 else val


class _Reader:
    def __init__(self, data):
        self.d = data
        self.i = 0

    def take(self, n):
        j = self.i + n
        if j > len(self.d):
            raise CborError("truncated")
        b = self.d[self.i:j]
        self.i = j
        return b

    def byte(self):
        if self.i >= len(self.d):
            raise CborError("truncated")
        b = self.d[self.i]
        self.i += 1
        return b

    def arg(self, info):
        if info < 24:
            return info
        if info == 24:
            return self.byte()
        if info == 25:
            return struct.unpack(">H", self.take(2))[0]
        if info == 26:
            return struct.unpack(">I", self.take(4))[0]
        if info == 27:
            return struct.unpack(">Q", self.take(8))[0]
        raise CborError("bad additional info")

    def item(self, depth=0):
        if depth > 16:
            raise CborError("nested too deep")
        ib = self.byte()
        major = ib >> 5
        info = ib & 0x1F
        if major == 7:
            return self.simple(info)
        if info == 31:
            return self.indefinite(major, depth)
        n = self.arg(info)
        if major == 0:
            return n
        if major == 1:
            return -1 - n
        if major == 2:
            return bytes(self.take(n))
        if major == 3:
            return self.text(n)
        if major == 4:
            return [self.item(depth + 1) for _ in range(n)]
        if major == 5:
            out = {}
            for _ in range(n):
                key = self.item(depth + 1)
                out[key] = self.item(depth + 1)
            return out
        return self.item(depth + 1)  # major 6: a tag; keep the tagged value

    def text(self, n):
        try:
            return str(bytes(self.take(n)), "utf-8")
        except UnicodeError:
            raise CborError("bad utf-8") from None

    def simple(self, info):
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 22 or info == 23:
            return None
        if info == 25:
            return _half(struct.unpack(">H", self.take(2))[0])
        if info == 26:
            return struct.unpack(">f", self.take(4))[0]
        if info == 27:
            return struct.unpack(">d", self.take(8))[0]
        raise CborError("unsupported simple value")

    def indefinite(self, major, depth):
        if major == 2 or major == 3:
            parts = bytearray()
            while self.peek() != 0xFF:
                ib = self.byte()
                if ib >> 5 != major or ib & 0x1F == 31:
                    raise CborError("bad indefinite string chunk")
                parts.extend(self.take(self.arg(ib & 0x1F)))
            self.byte()
            if major == 2:
                return bytes(parts)
            try:
                return str(bytes(parts), "utf-8")
            except UnicodeError:
                raise CborError("bad utf-8") from None
        if major == 4:
            out = []
            while self.peek() != 0xFF:
                out.append(self.item(depth + 1))
            self.byte()
            return out
        if major == 5:
            out = {}
            while self.peek() != 0xFF:
                key = self.item(depth + 1)
                out[key] = self.item(depth + 1)
            self.byte()
            return out
        raise CborError("bad indefinite item")

    def peek(self):
        if self.i >= len(self.d):
            raise CborError("truncated")
        return self.d[self.i]


def loads(data):
    """Decode exactly one CBOR item from data; trailing bytes are an error."""
    r = _Reader(data)
    try:
        obj = r.item()
    except (IndexError, TypeError, KeyError):
        raise CborError("malformed") from None
    if r.i != len(data):
        raise CborError("trailing bytes")
    return obj
