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
import threading
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

    Safe to call from several threads at once: concurrent reads are committed
    together (one flush for the batch), which is how the store keeps up with
    bursts. A full disk raises DiskFullError after a warning was published;
    that read is not stored and the caller must keep it (nothing is dropped
    silently).
    """
    return save_reads([new], images, match=match, publish=publish)[0]


def save_reads(news: list[NewRead], images: ImageStore, *, match: bool = True,
               publish: bool = True) -> list[Read]:
    """Store several reads with one flush; see save_read. All or none are stored."""
    for new in news:
        if new.seen_at.tzinfo is not None:
            new.seen_at = new.seen_at.astimezone(dt.UTC).replace(tzinfo=None)
    reads = _committer.submit(news, images)
    for read in reads:
        alerts = raise_alerts(read) if match else []
        if publish:
            bus.publish("read", id=read.id, uid=read.uid)
            for alert in alerts:
                if not alert.covert:  # covert lists never reach the car's screen
                    bus.publish("alert", id=alert.id, read_id=read.id, priority=alert.priority,
                                covert=False)
    return reads


class _Job:
    __slots__ = ("news", "images", "reads", "error", "done", "staged")

    def __init__(self, news: list[NewRead], images: ImageStore):
        self.news = news
        self.images = images
        self.reads: list[Read] = []
        self.error: BaseException | None = None
        self.done = False
        self.staged: list[tuple] = []


class _GroupCommitter:
    """Group commit: whoever finds no write in progress writes every waiting job."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._waiting: list[_Job] = []
        self._busy = False

    def submit(self, news: list[NewRead], images: ImageStore) -> list[Read]:
        job = _Job(news, images)
        # Each caller writes its own temporary image files before queueing, in
        # parallel with the others; only the flush and the rows are serialised.
        job.staged = _stage_images(job)
        with self._cond:
            self._waiting.append(job)
            while not job.done:
                if self._busy:
                    self._cond.wait()
                    continue
                batch, self._waiting = self._waiting, []
                self._busy = True
                self._cond.release()
                try:
                    _write_batch(batch)
                finally:
                    self._cond.acquire()
                    self._busy = False
                    self._cond.notify_all()
        if job.error is not None:
            raise job.error
        return job.reads


def _write_batch(batch: list[_Job]) -> None:
    """Images first (durable), then every row in one transaction. Never raises."""
    staged_by_job = {id(job): job.staged for job in batch}
    live = batch
    try:
        by_store: dict[str, tuple[ImageStore, list]] = {}
        for job in live:
            store_items = by_store.setdefault(str(job.images.root), (job.images, []))[1]
            for crop, context in staged_by_job[id(job)]:
                store_items.extend(s for s in (crop, context) if s is not None)
        for store, items in by_store.values():
            store.commit(items)
        with database.atomic():
            for job in live:
                job.reads = [_create_row(new, crop, context)
                             for new, (crop, context) in zip(job.news, staged_by_job[id(job)],
                                                             strict=True)]
    except BaseException as exc:  # noqa: BLE001 - every waiting caller gets the error
        if isinstance(exc, DiskFullError) or "disk is full" in str(exc):  # ours or SQLite's
            from gateway.store import diskspace

            diskspace.warn("the car's disk is full: reads could not be stored; free space or "
                           "restore the upload link")
        for job in live:
            job.error, job.reads = exc, []
    for job in live:
        job.done = True


def _stage_images(job: _Job) -> list[tuple]:
    try:
        return [_stage_pair(job.images, new) for new in job.news]
    except DiskFullError:
        # Delivered cached images go first; then try once more.
        from gateway.store import diskspace

        diskspace.free_for_write(job.images)
        return [_stage_pair(job.images, new) for new in job.news]


def _stage_pair(images: ImageStore, new: NewRead) -> tuple:
    crop = images.stage(new.crop_jpeg) if new.crop_jpeg else None
    context = images.stage(new.context_jpeg) if new.context_jpeg else None
    return crop, context


def _create_row(new: NewRead, crop, context) -> Read:
    return Read.create(
        plate=new.plate, confidence=new.confidence, candidates=list(new.candidates),
        char_confidence=list(new.char_confidence), state=new.state, seen_at=new.seen_at,
        board_id=new.board_id, camera=new.camera, latitude=new.latitude,
        longitude=new.longitude, crop_sha256=crop.sha if crop else "",
        context_sha256=context.sha if context else "", box=new.box, frames=new.frames,
    )


_committer = _GroupCommitter()


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
