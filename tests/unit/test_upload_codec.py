"""The batch wire format: what goes in comes out, and bad batches are named."""

import datetime as dt
import gzip
import json

import pytest

from gateway.upload.codec import CodecError, decode_batch, encode_batch, row_from_read


def _read(i: int) -> dict:
    return {
        "uid": f"{i:032x}", "plate": f"7ABC{i:03d}", "confidence": 0.91234,
        "candidates": [{"text": f"7ABC{i:03d}", "confidence": 0.9}, {"text": "7ABC00", "confidence": 0.2}],
        "state": "CA", "seen_at": dt.datetime(2026, 11, 28, 8, 0, 0) + dt.timedelta(seconds=3 * i, milliseconds=7),
        "board_id": "esp32-1", "camera": "front", "latitude": 37.1234567, "longitude": None,
        "crop_sha256": "a" * 64, "context_sha256": "", "box": [1, 2, 3, 4], "frames": 2,
    }


def test_round_trip_keeps_every_field():
    rows = [row_from_read(_read(i)) for i in range(50)]
    back = decode_batch(encode_batch(rows))
    assert back == rows
    assert back[3]["seen_at"] == dt.datetime(2026, 11, 28, 8, 0, 9, 7000)
    assert back[0]["candidates"] == [["7ABC000", 0.9], ["7ABC00", 0.2]]
    assert back[0]["latitude"] == 37.123457 and back[0]["longitude"] is None


def test_times_out_of_order_survive_delta_coding():
    rows = [row_from_read(_read(i)) for i in (5, 1, 9, 0)]
    assert [r["seen_at"] for r in decode_batch(encode_batch(rows))] == [r["seen_at"] for r in rows]


def test_empty_batch_is_refused():
    with pytest.raises(CodecError):
        encode_batch([])


@pytest.mark.parametrize(
    "body, message",
    [
        (b"not gzip at all", "gzip"),
        (gzip.compress(b"{nope"), "JSON"),
        (gzip.compress(json.dumps({"v": 2}).encode()), "version"),
        (gzip.compress(json.dumps({"v": 1, "n": 2, "cols": {}, "seen_ms_delta": [0, 0]}).encode()), "column"),
    ],
)
def test_malformed_batches_are_named(body, message):
    with pytest.raises(CodecError, match=message):
        decode_batch(body)


def test_a_bad_field_names_the_read():
    rows = [row_from_read(_read(i)) for i in range(3)]
    rows[2]["plate"] = "X" * 40
    with pytest.raises(CodecError, match="read 2: plate"):
        decode_batch(encode_batch(rows))
