"""CBOR round trips of every message type between shared.cbor under MicroPython and cbor2."""

from __future__ import annotations

import json

import cbor2
from _firmware_messages import SAMPLES
from _mp_helpers import run_mp

# Reads "name hex" lines (cbor2's encoding), prints "name decoded-and-re-encoded-hex encoded-from-literal-hex".
MP_SCRIPT = """
import sys, binascii, json
from shared import cbor
samples = json.loads(sys.stdin.readline())
for line in sys.stdin:
    name, hx = line.split()
    obj = cbor.loads(binascii.unhexlify(hx))
    print(name, binascii.hexlify(cbor.dumps(obj)).decode(), binascii.hexlify(cbor.dumps(samples[name])).decode())
"""


def _has_bytes(v):
    if isinstance(v, bytes):
        return True
    if isinstance(v, dict):
        return any(_has_bytes(x) for x in v.values())
    if isinstance(v, list):
        return any(_has_bytes(x) for x in v)
    return False


def test_every_message_type_round_trips_both_ways(micropython_bin):
    jsonable = {k: v for k, v in SAMPLES.items() if not _has_bytes(v)}
    stdin = json.dumps(jsonable) + "\n"
    stdin += "".join(f"{name} {cbor2.dumps(msg).hex()}\n" for name, msg in SAMPLES.items())
    # Samples with bytes cannot be re-encoded from JSON; give MicroPython an equal stand-in.
    out = run_mp(micropython_bin, MP_SCRIPT.replace(
        "samples[name]", "samples.get(name, cbor.loads(binascii.unhexlify(hx)))"),
        stdin.encode())
    seen = set()
    for line in out.splitlines():
        name, reencoded, literal = line.split()
        seen.add(name)
        # cbor2 -> MicroPython -> cbor2: the same message
        assert cbor2.loads(bytes.fromhex(reencoded)) == SAMPLES[name], name
        # MicroPython's own encoding of the message, read by cbor2
        assert cbor2.loads(bytes.fromhex(literal)) == SAMPLES[name], name
    assert seen == set(SAMPLES)


def test_cbor2_canonical_and_float_forms_decode_on_micropython(micropython_bin):
    # cbor2 may pick half/single floats and shortest ints in canonical mode
    values = [0.5, 1.5, -2.0, 65504.0, 1e-3, 23, 24, 255, 256, 65535, 65536, 2 ** 32, -(2 ** 63)]
    encoded = cbor2.dumps(values, canonical=True)
    out = run_mp(micropython_bin,
                 "import sys, binascii\nfrom shared import cbor\n"
                 "v = cbor.loads(binascii.unhexlify(sys.stdin.readline().strip()))\n"
                 "print(binascii.hexlify(cbor.dumps(v)).decode())\n",
                 encoded.hex().encode())
    decoded = cbor2.loads(bytes.fromhex(out.strip()))
    assert decoded == values


def test_malformed_cbor_is_a_cbor_error_on_micropython(micropython_bin):
    out = run_mp(micropython_bin, """
from shared import cbor
bad = [b"", b"\\x18", b"\\x62a", b"\\x9f\\x01", b"\\xa1\\x01", b"\\x01\\x02", b"\\xfc", b"\\x1c"]
for b in bad:
    try:
        cbor.loads(b)
        print("accepted", b)
    except cbor.CborError:
        print("rejected")
""")
    assert out.split() == ["rejected"] * 8


def test_samples_cover_every_message_type():
    from shared import messages

    names = {name.split("_")[0] for name in SAMPLES}
    assert names == {n for t, n in messages.NAMES.items() if t != messages.CHUNK}
    for name, msg in SAMPLES.items():
        mtype = next(t for t, n in messages.NAMES.items() if n == name.split("_")[0])
        messages.check(mtype, msg)
