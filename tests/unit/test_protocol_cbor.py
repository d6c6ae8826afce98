"""shared.cbor (as CPython runs it) against cbor2, both ways, on arbitrary values."""

from __future__ import annotations

import math

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import cbor, messages

leaves = (st.none() | st.booleans() | st.integers(-(2 ** 63), 2 ** 64 - 1)
          | st.floats(allow_nan=False) | st.text(max_size=40) | st.binary(max_size=40))
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=5)
                      | st.dictionaries(st.text(max_size=10) | st.integers(-100, 100), inner,
                                        max_size=5), max_leaves=30)


@given(values)
def test_ours_is_read_by_cbor2(value):
    assert cbor2.loads(cbor.dumps(value)) == value


@given(values, st.booleans())
def test_cbor2_is_read_by_ours(value, canonical):
    assert cbor.loads(cbor2.dumps(value, canonical=canonical)) == value


def test_special_floats():
    assert math.isinf(cbor.loads(cbor2.dumps(float("inf"), canonical=True)))
    assert math.isnan(cbor.loads(cbor2.dumps(float("nan"))))


def test_indefinite_lengths_and_tags():
    assert cbor.loads(bytes.fromhex("9f0102ff")) == [1, 2]
    assert cbor.loads(bytes.fromhex("bf6161 01ff".replace(" ", ""))) == {"a": 1}
    assert cbor.loads(bytes.fromhex("7f61616162ff")) == "ab"
    assert cbor.loads(cbor2.dumps(cbor2.CBORTag(1, 1700000000))) == 1700000000


@pytest.mark.parametrize("bad", [b"", b"\x18", b"\x62a", b"\x9f\x01", b"\x81", b"\x01\x02",
                                 b"\xa1\x80\x01", b"\x1c", b"\xff"])
def test_malformed_input_raises_cbor_error(bad):
    with pytest.raises(cbor.CborError):
        cbor.loads(bad)


def test_message_check_names_the_missing_field():
    with pytest.raises(messages.MessageError, match="ack: missing offset"):
        messages.check(messages.ACK, {"xfer": 1})
    with pytest.raises(messages.MessageError, match="unknown message type"):
        messages.check(99, {})
