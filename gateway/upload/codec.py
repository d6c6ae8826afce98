"""The wire format of a batch of reads: columnar JSON, gzip-compressed.

Columns instead of one object per read, because gzip then sees runs of like
values (hex ids next to hex ids, small time deltas next to each other) and a
read costs about as many bytes as its entropy. Times travel as milliseconds
since the epoch, each as the delta from the previous read.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
from typing import Any

from gateway.errors import AlprError

FORMAT_VERSION = 1
CONTENT_TYPE = "application/vnd.alpr.reads+json"
MAX_BATCH = 10_000
MAX_DECODED_BYTES = 64 * 1024 * 1024

EPOCH = dt.datetime(1970, 1, 1)

# Columns sent for each read, in order. char_confidence stays on the car: the
# regional center has no use for it and it is the largest field.
COLUMNS = (
    "uid", "plate", "confidence", "candidates", "state", "board_id", "camera",
    "latitude", "longitude", "crop_sha256", "context_sha256", "box", "frames",
)


class CodecError(AlprError):
    """A batch that does not decode: the sender and the server disagree on the format."""


def to_ms(value: dt.datetime) -> int:
    return int((value - EPOCH).total_seconds() * 1000)


def from_ms(ms: int) -> dt.datetime:
    return EPOCH + dt.timedelta(milliseconds=ms)


def _compact_candidates(cands: Any) -> list:
    out = []
    for cand in cands or []:
        if isinstance(cand, dict):
            out.append([str(cand.get("text", "")), round(float(cand.get("confidence", 0.0)), 3)])
        else:
            out.append([str(cand[0]), round(float(cand[1]), 3)])
    return out


def row_from_read(read: dict[str, Any]) -> dict[str, Any]:
    """A read (as a dict of Read's columns) reduced to what travels."""
    lat, lon = read.get("latitude"), read.get("longitude")
    return {
        "uid": read["uid"],
        "plate": read["plate"],
        "confidence": round(float(read["confidence"]), 3),
        "candidates": _compact_candidates(read.get("candidates")),
        "state": read.get("state") or "",
        "board_id": read.get("board_id") or "",
        "camera": read.get("camera") or "",
        "latitude": None if lat is None else round(float(lat), 6),
        "longitude": None if lon is None else round(float(lon), 6),
        "crop_sha256": read.get("crop_sha256") or "",
        "context_sha256": read.get("context_sha256") or "",
        "box": read.get("box"),
        "frames": int(read.get("frames") or 1),
        "seen_at": read["seen_at"],
    }


def encode_batch(rows: list[dict[str, Any]], level: int = 6) -> bytes:
    if not rows:
        raise CodecError("an empty batch is not sent")
    cols: dict[str, list] = {name: [r[name] for r in rows] for name in COLUMNS}
    times = [to_ms(r["seen_at"]) for r in rows]
    deltas = [times[0]] + [b - a for a, b in zip(times, times[1:], strict=False)]
    doc = {"v": FORMAT_VERSION, "n": len(rows), "cols": cols, "seen_ms_delta": deltas}
    raw = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return gzip.compress(raw, compresslevel=level, mtime=0)


def decode_batch(body: bytes) -> list[dict[str, Any]]:
    """Inverse of encode_batch, with every column checked; raises CodecError."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as fh:
            raw = fh.read(MAX_DECODED_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise CodecError(f"batch is not valid gzip: {exc}") from None
    if len(raw) > MAX_DECODED_BYTES:
        raise CodecError("batch is larger than 64 MiB once decompressed")
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise CodecError(f"batch is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("v") != FORMAT_VERSION:
        raise CodecError(f"batch format version {doc.get('v') if isinstance(doc, dict) else '?'}"
                         f" is not {FORMAT_VERSION}")
    n = doc.get("n")
    cols = doc.get("cols")
    deltas = doc.get("seen_ms_delta")
    if not isinstance(n, int) or not 0 < n <= MAX_BATCH or not isinstance(cols, dict):
        raise CodecError(f"batch size must be 1..{MAX_BATCH}")
    for name in COLUMNS:
        if not isinstance(cols.get(name), list) or len(cols[name]) != n:
            raise CodecError(f"column {name!r} is missing or not {n} long")
    if not isinstance(deltas, list) or len(deltas) != n or not all(isinstance(d, int) for d in deltas):
        raise CodecError("seen_ms_delta is missing or malformed")
    rows = []
    ms = 0
    for i in range(n):
        ms += deltas[i]
        row = {name: cols[name][i] for name in COLUMNS}
        row["seen_at"] = from_ms(ms)
        _check_row(row, i)
        rows.append(row)
    return rows


def _check_row(row: dict[str, Any], i: int) -> None:
    uid = row["uid"]
    if not isinstance(uid, str) or not 8 <= len(uid) <= 64:
        raise CodecError(f"read {i}: uid must be a string of 8..64 characters")
    if not isinstance(row["plate"], str) or len(row["plate"]) > 16:
        raise CodecError(f"read {i}: plate must be a string of at most 16 characters")
    if not isinstance(row["confidence"], int | float):
        raise CodecError(f"read {i}: confidence must be a number")
    for name in ("state", "board_id", "camera", "crop_sha256", "context_sha256"):
        if not isinstance(row[name], str):
            raise CodecError(f"read {i}: {name} must be a string")
    for name in ("latitude", "longitude"):
        if row[name] is not None and not isinstance(row[name], int | float):
            raise CodecError(f"read {i}: {name} must be a number or null")
    if not isinstance(row["frames"], int) or not isinstance(row["candidates"], list):
        raise CodecError(f"read {i}: frames must be an integer and candidates a list")
