"""Storing a read durably, matching it, and only then telling anyone.

Order matters (the policy's "a read reported stored is never lost"):
1. the images are written (fsync'd, renamed) and the row committed in SQLite
   WAL with synchronous=FULL;
2. the read's candidates are matched against the active hotlists and the
   alerts committed;
3. only then are `read` and `alert` events published on the bus. Alerts from
   covert lists are stored but never published to the car's UI.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from peewee import fn

from gateway.errors import AlprError
from gateway.events import bus
from gateway.store.images import DiskFullError, ImageStore
from gateway.store.models import Alert, AlertEvent, HotlistEntry, Read, database

logger = logging.getLogger(__name__)


class ReadError(AlprError):
    """A read could not be stored or searched as asked."""


@dataclass
class NewRead:
    """What recognition hands the store for one vehicle pass."""

    plate: str
    confidence: float
    seen_at: dt.datetime  # naive UTC
    candidates: list[dict] = field(default_factory=list)  # [{"text", "confidence"}] best first
    char_confidence: list[float] = field(default_factory=list)
    state: str = ""
    board_id: str = ""
    camera: str = ""
    latitude: float | None = None
    longitude: float | None = None
    crop_jpeg: bytes | None = None
    context_jpeg: bytes | None = None
    box: list[int] | None = None
    frames: int = 1


def candidate_texts(read: Read | NewRead) -> list[str]:
    texts = [read.plate]
    for cand in read.candidates or []:
        text = cand.get("text", "") if isinstance(cand, dict) else str(cand)
        if text and text not in texts:
            texts.append(text)
    return texts


def save_read(new: NewRead, images: ImageStore, *, match: bool = True, publish: bool = True) -> Read:
    """Store `new` durably, raise its alerts, then publish; returns the stored Read.

    A full disk raises DiskFullError after a warning was published; the read is
    not stored and the caller must keep it (nothing is dropped silently).
    """
    if new.seen_at.tzinfo is not None:
        new.seen_at = new.seen_at.astimezone(dt.UTC).replace(tzinfo=None)
    try:
        crop = images.put(new.crop_jpeg) if new.crop_jpeg else ""
        context = images.put(new.context_jpeg) if new.context_jpeg else ""
    except DiskFullError:
        from gateway.store import diskspace

        crop, context = diskspace.retry_after_freeing(images, new)
    with database.atomic():
        read = Read.create(
            plate=new.plate, confidence=new.confidence, candidates=list(new.candidates),
            char_confidence=list(new.char_confidence), state=new.state, seen_at=new.seen_at,
            board_id=new.board_id, camera=new.camera, latitude=new.latitude,
            longitude=new.longitude, crop_sha256=crop, context_sha256=context, box=new.box,
            frames=new.frames,
        )
    alerts = raise_alerts(read) if match else []
    if publish:
        bus.publish("read", id=read.id, uid=read.uid)
        for alert in alerts:
            if not alert.covert:
                bus.publish("alert", id=alert.id, read_id=read.id, priority=alert.priority,
                            covert=False)
    return read


def raise_alerts(read: Read) -> list[Alert]:
    """Match a stored read against the active lists; store one alert per entry hit."""
    from gateway.hotlist.match import get_matcher

    hits = get_matcher().match(candidate_texts(read))
    if not hits:
        return []
    # The index may be a moment older than a list replacement: keep only live entries.
    live = {row.id for row in HotlistEntry.select(HotlistEntry.id).where(
        HotlistEntry.id.in_([h.entry_id for h in hits]))}
    alerts = []
    with database.atomic():
        for hit in hits:
            if hit.entry_id not in live:
                continue
            alert = Alert.create(
                read=read, entry=hit.entry_id, list_name=hit.list, entry_plate=hit.entry,
                matched_text=hit.matched_text, match_kind=hit.kind, quality=hit.quality,
                priority=hit.priority, covert=hit.covert,
            )
            AlertEvent.create(alert=alert, step="new", username="system",
                              note=f"{hit.kind} match, quality {hit.quality:.2f}")
            alerts.append(alert)
    alerts.sort(key=lambda a: (a.priority, -a.quality))
    logger.debug("read %s raised %d alerts", read.id, len(alerts))
    return alerts


def search_reads(pattern: str = "", since: dt.datetime | None = None,
                 until: dt.datetime | None = None, board: str = "",
                 bbox: tuple[float, float, float, float] | None = None,
                 limit: int = 1000, offset: int = 0) -> list[Read]:
    """Reads whose plate (or any candidate) matches `pattern` (* and ? wildcards).

    Newest first. `bbox` is (min_lat, min_lon, max_lat, max_lon). Callers
    record the search in the access record with its purpose and case number
    (tools/cli/commands/reads.py and the web UI do).
    """
    query = Read.select()
    if pattern:
        from gateway.hotlist.plates import normalize

        glob = normalize(pattern)
        if not glob.strip("*?"):
            raise ReadError("the search pattern needs at least one plate character")
        if "*" in glob or "?" in glob:
            query = query.where(Read.plate ** glob.replace("*", "%").replace("?", "_"))
        else:
            # The exact plate, or a read where it was one of the OCR candidates.
            query = query.where((Read.plate == glob)
                                | (fn.INSTR(Read.candidates, f'"text":"{glob}"') > 0))
    if since is not None:
        query = query.where(Read.seen_at >= since)
    if until is not None:
        query = query.where(Read.seen_at < until)
    if board:
        query = query.where(Read.board_id == board)
    if bbox is not None:
        min_lat, min_lon, max_lat, max_lon = bbox
        query = query.where(Read.latitude.between(min_lat, max_lat)
                            & Read.longitude.between(min_lon, max_lon))
    return list(query.order_by(Read.seen_at.desc(), Read.id.desc()).limit(limit).offset(offset))


def count_reads() -> int:
    return Read.select(fn.COUNT(Read.id)).scalar() or 0
