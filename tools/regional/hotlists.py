"""Hotlists as the regional server publishes them: a canonical JSON body per
list, its SHA-256 as the version (the ETag) and its record count, so a car can
fetch only what changed and check what it got."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

from gateway.errors import AlprError
from tools.regional.models import RegionalHotlist, database, utcnow

# The same columns as the car's CSV hotlist format (gateway/hotlist/csvfile.py).
FIELDS = ("plate", "state", "list", "description", "expires")


class HotlistPublishError(AlprError):
    """A hotlist to publish is malformed; the message names the line."""


def canonical_body(records: list[dict]) -> bytes:
    return json.dumps(records, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def read_csv(path: Path) -> list[dict]:
    """Records from a CSV with a header row; `plate` is required, the rest optional."""
    records = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "plate" not in [f.strip().lower() for f in reader.fieldnames]:
                raise HotlistPublishError(f"{path}: the header row must name a 'plate' column")
            for lineno, raw in enumerate(reader, start=2):
                row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
                if not row.get("plate"):
                    raise HotlistPublishError(f"{path}:{lineno}: empty plate")
                records.append({k: row.get(k, "") for k in FIELDS if row.get(k, "")})
    except FileNotFoundError:
        raise HotlistPublishError(f"{path}: no such file; nothing was published") from None
    except UnicodeDecodeError as exc:
        raise HotlistPublishError(f"{path}: not a text CSV file (byte {exc.start} is not UTF-8); "
                                  "export the list as CSV UTF-8; nothing was published") from None
    except csv.Error as exc:
        raise HotlistPublishError(f"{path}: not a readable CSV file ({exc}); nothing was "
                                  "published") from None
    except OSError as exc:
        raise HotlistPublishError(f"cannot read {path}: {exc.strerror}; nothing was "
                                  "published") from None
    return records


def publish(name: str, records: list[dict], priority: int = 5, covert: bool = False,
            description: str = "") -> RegionalHotlist:
    body = canonical_body(records)
    version = hashlib.sha256(body).hexdigest()
    with database.atomic():
        row = RegionalHotlist.get_or_none(RegionalHotlist.name == name)
        if row is None:
            row = RegionalHotlist(name=name)
        row.priority, row.covert, row.description = priority, int(covert), description
        if row.version != version:
            row.version, row.body, row.record_count = version, body, len(records)
            row.published_at = utcnow()
        row.save()
    return row
