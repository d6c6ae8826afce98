"""Consistent Overhead Byte Stuffing: frames without 0x00, so 0x00 delimits them.

Both functions work block by block with slices (fast on CPython, few
allocations on MicroPython) and write into a caller's preallocated buffer.
"""


def max_encoded_len(n):
    """Worst-case encoded size of `n` bytes (without the delimiter)."""
    return n + n // 254 + 1


def encode_into(src, n, dst, start=0):
    """Encode src[:n] (a bytearray or bytes) into dst from dst[start]; return the end in dst.

    dst must hold start + max_encoded_len(n) bytes. No 0x00 appears in the output.
    """
    mv = memoryview(src)
    i = 0
    o = start
    while True:
        end = i + 254
        if end > n:
            end = n
        z = src.find(b"\x00", i, end)
        if z < 0:
            k = end - i
            dst[o] = k + 1
            dst[o + 1:o + 1 + k] = mv[i:end]
            o += k + 1
            i = end
            if k == 254 and i < n:
                continue
            return o
        k = z - i
        dst[o] = k + 1
        dst[o + 1:o + 1 + k] = mv[i:z]
        o += k + 1
        i = z + 1
        if i == n:
            # The source ended on a zero: one more (empty) block encodes it.
            dst[o] = 1
            return o + 1


def decode_into(src, n, dst):
    """Decode src[:n] into dst; return the decoded length, or -1 if malformed.

    dst must hold n bytes. Malformed input (a 0x00 byte, a block running past
    the end) returns -1 instead of raising, so that line noise is just a
    counted error.
    """
    i = 0
    o = 0
    while i < n:
        code = src[i]
        if code == 0:
            return -1
        end = i + code
        if end > n:
            return -1
        k = code - 1
        if k:
            dst[o:o + k] = src[i + 1:end]
            o += k
        i = end
        if code < 255 and i < n:
            dst[o] = 0
            o += 1
    return o
