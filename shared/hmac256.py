"""HMAC-SHA256 (RFC 2104) by hand: MicroPython has hashlib.sha256 but no hmac."""

import hashlib

_BLOCK = 64


class Hmac:
    """A keyed MAC whose pads are computed once, at construction."""

    def __init__(self, key):
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        padded = bytearray(_BLOCK)
        padded[:len(key)] = key
        ipad = bytearray(_BLOCK)
        opad = bytearray(_BLOCK)
        for i in range(_BLOCK):
            ipad[i] = padded[i] ^ 0x36
            opad[i] = padded[i] ^ 0x5C
        self._ipad = bytes(ipad)
        self._opad = bytes(opad)

    def digest(self, data):
        inner = hashlib.sha256(self._ipad)
        inner.update(data)
        outer = hashlib.sha256(self._opad)
        outer.update(inner.digest())
        return outer.digest()


def equal(a, b):
    """Compare two MACs in time independent of where they differ."""
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0
