"""Sessions: a fresh key per hello, so recorded frames cannot be replayed later.

The board's hello carries a random nonce and is MACed with the board key.
The gateway answers with a welcome (MACed with the board key) carrying the
hello's nonce and a random nonce of its own. Both ends then MAC every
other frame with

    session key = HMAC-SHA256(board key, "alpr-session" | hello nonce | gateway nonce)

and accept only increasing sequence numbers within the session.
"""

import hashlib
import os

from shared.hmac256 import Hmac

NONCE_LEN = 8


def session_key(key, hello_nonce, gateway_nonce):
    return Hmac(key).digest(b"alpr-session" + bytes(hello_nonce) + bytes(gateway_nonce))


def new_nonce():
    try:
        return os.urandom(NONCE_LEN)
    except (AttributeError, OSError, NotImplementedError):
        # A port without a hardware RNG: hash what varies between boots.
        import time

        seed = str(time.ticks_us()) + str(time.ticks_cpu()) + str(id(object()))
        return hashlib.sha256(seed.encode()).digest()[:NONCE_LEN]
