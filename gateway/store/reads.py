"""Storing a read durably, with its alerts, and only then telling anyone.

Order matters (the policy's "a read reported stored is never lost"):
1. the read's candidates are matched against the active hotlists;
2. its images are written under temporary names, and the row and its alerts
   are committed in one transaction;
3. one filesystem flush makes the images and the database's WAL durable
   (shared by every read written meanwhile, see _GroupCommitter), and the
   images are renamed into place;
4. only then are `read` and `alert` events published on the bus. Alerts from
   covert lists are stored but never published to the car's UI.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import uuid
from dataclasses import dataclass, field

from peewee import DatabaseError, fn

from gateway.errors import AlprError
from gateway.events import bus
from gateway.store import alerts as alert_steps
from gateway.store.images import DiskFullError, ImageStore, ImageStoreError
from gateway.store.models import (
    Alert,
    AlertEvent,
    HotlistEntry,
    HotlistList,
    Read,
    database,
    utcnow,
)

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
    """Store several reads with one flush; see save_read. All or none are stored.

    The candidates are matched before the write so that the read and its
    alerts are committed in one transaction and made durable by one flush.
    """
    for new in news:
        if new.seen_at.tzinfo is not None:
            new.seen_at = new.seen_at.astimezone(dt.UTC).replace(tzinfo=None)
    stored = _committer.submit(news, _Matching(news, match), images)
    for read, alerts in stored:
        if publish:
            bus.publish("read", id=read.id, uid=read.uid)
            publish_alerts(read, alerts)
    return [read for read, _ in stored]


def publish_alerts(read: Read, alerts: list[Alert]) -> None:
    """Tell the car's screen; covert lists never reach it. A repeat names the alert it
    repeats, which the screen updates instead of sounding a new alert."""
    for alert in alerts:
        if not alert.covert:
            bus.publish("alert", id=alert.id, read_id=read.id, priority=alert.priority,
                        covert=False, repeat_of=alert.repeat_of_id or 0)


class _Matching:
    """A batch's hotlist hits, found before the write (outside the writers' lock).

    If the index changed before the rows were committed (an officer's new
    entry, a list replaced), `since_write` matches again: the officer's check
    of stored reads only sees committed rows, so a read matched against the
    old index and committed after that check would otherwise be missed.
    """

    def __init__(self, news: list[NewRead], enabled: bool):
        self.news = news
        self.matcher = None
        self.hits: list[list] = [[] for _ in news]
        if enabled:
            from gateway.hotlist.match import get_matcher

            self._match(get_matcher())

    def _match(self, matcher) -> None:
        self.matcher, self.size = matcher, len(matcher)
        self.hits = [matcher.match(candidate_texts(new)) for new in self.news]

    def since_write(self) -> list[list] | None:
        """Fresh hits if the index changed since they were found, else None."""
        if self.matcher is None:
            return None
        from gateway.hotlist.match import get_matcher

        now = get_matcher()
        if now is self.matcher and len(now) == self.size:
            return None
        self._match(now)
        return self.hits


class _GroupCommitter:
    """Durable reads at the rate of the CPU, not of the disk's flushes.

    A flush (fsync or syncfs) is most of a stored read's cost, so it is
    shared. Each caller writes its own images and then inserts its rows with
    SQLite's commit-time fsync turned off (synchronous=NORMAL on that
    connection for that one transaction); whoever then finds no flush in
    progress runs one syncfs, which makes the WAL pages and images of every
    read inserted so far durable together, while callers arriving meanwhile
    insert theirs for the next flush. Nobody is told of a read before a
    flush that began after its insert has finished. Should that flush fail,
    its callers delete their rows and get the error.

    A power cut before the flush loses rows and images alike or, if the
    kernel wrote the WAL out first, leaves a row without its pictures: a
    read that was never reported stored, kept rather than lost.

    Where syncfs is missing or the images live on another disk than the
    database, each caller flushes its images and commits with SQLite's own
    fsync instead (correct, and slower).
    """

    def __init__(self) -> None:
        self._insert_lock = threading.Lock()  # one writer at a time, without SQLite's busy polling
        self._cond = threading.Condition()
        self._to_insert: list[_Rows] = []
        self._inserting = False
        self._inserted = 0  # tickets handed out, one per insert
        self._durable = 0  # every ticket up to this one is flushed (or failed, see _failed)
        self._flushing = False
        self._failed: list[tuple[int, int, BaseException]] = []  # (first, last ticket, error)
        self._one_flush: dict[tuple[str, str], bool] = {}

    def submit(self, news: list[NewRead], matching: _Matching, images: ImageStore) -> list[tuple]:
        """Store the reads and their hits' alerts durably; [(Read, [Alert, ...]), ...]."""
        staged: list[tuple] = []
        try:
            staged = _stage_images(images, news)
            if not self._shares_flush(images):
                return self._write_apart(_Rows(news, staged, matching), images)
            stored, ticket = self._insert(_Rows(news, staged, matching))
        except BaseException as exc:
            images.discard(_files(staged))
            _warn_if_disk_fault(exc)
            raise
        error = self._wait_durable(ticket, images)
        if error is not None:
            _forget([read for read, _ in stored])
            images.discard(_files(staged))
            _warn_if_disk_fault(error)
            raise error
        images.place(_files(staged))
        return stored

    def _insert(self, rows: _Rows) -> tuple[list[tuple], int]:
        """Insert the rows, with whatever other callers queued meanwhile, in one transaction
        (fewer WAL pages and statements per read); returns them and their flush ticket."""
        with self._cond:
            self._to_insert.append(rows)
            while rows.ticket == 0:
                if self._inserting:
                    self._cond.wait()
                    continue
                batch, self._to_insert = self._to_insert, []
                self._inserting = True
                self._cond.release()
                try:
                    _insert_batch(batch, self._insert_lock, relaxed=True)
                finally:
                    self._cond.acquire()
                    self._inserting = False
                    self._inserted += 1
                    for done in batch:
                        done.ticket = self._inserted
                    self._cond.notify_all()
        if rows.error is not None:
            raise rows.error
        return rows.stored, rows.ticket

    def _shares_flush(self, images: ImageStore) -> bool:
        key = (str(images.root), database.database)
        if key not in self._one_flush:
            self._one_flush[key] = images.flushes_with(database.database)
        return self._one_flush[key]

    def _wait_durable(self, ticket: int, images: ImageStore) -> BaseException | None:
        with self._cond:
            while self._durable < ticket:
                if self._flushing:
                    self._cond.wait()
                    continue
                self._flushing = True
                first, upto = self._durable + 1, self._inserted
                self._cond.release()
                error = None
                try:
                    images.flush()  # every image store shares the database's filesystem
                except BaseException as exc:  # noqa: BLE001 - handed to every caller it covered
                    error = exc
                finally:
                    self._cond.acquire()
                    self._flushing = False
                    self._durable = upto
                    if error is not None:
                        self._failed = [*self._failed[-15:], (first, upto, error)]
                    self._cond.notify_all()
            for first, last, error in self._failed:
                if first <= ticket <= last:
                    return error
        return None

    def _write_apart(self, rows: _Rows, images: ImageStore) -> list[tuple]:
        images.commit(_files(rows.staged))
        _insert_batch([rows], self._insert_lock, relaxed=False)
        if rows.error is not None:
            raise rows.error
        return rows.stored


def _files(staged: list[tuple]) -> list:
    """The staged image files of (crop, context) pairs, leaving out the absent ones."""
    return [s for pair in staged for s in pair if s is not None]


class _Rows:
    """One caller's reads on their way into the database."""

    __slots__ = ("news", "staged", "matching", "stored", "error", "ticket")

    def __init__(self, news: list[NewRead], staged: list[tuple], matching: _Matching):
        self.news, self.staged, self.matching = news, staged, matching
        self.stored: list[tuple] = []
        self.error: BaseException | None = None
        self.ticket = 0


def _insert_batch(batch: list[_Rows], lock: threading.Lock, *, relaxed: bool) -> None:
    """Every caller's rows in one transaction; all fail together. Never raises.

    `relaxed`: without SQLite's own fsync, for the group flush to make durable.
    """
    committed: list[Read] = []
    try:
        with lock:
            if relaxed:
                database.execute_sql("PRAGMA synchronous=NORMAL")
            try:
                with database.atomic():
                    for rows in batch:
                        rows.stored = _insert_rows(list(zip(rows.news, rows.staged, strict=True)),
                                                   rows.matching.hits)
                committed = [read for rows in batch for read, _ in rows.stored]
                for rows in batch:
                    rows.stored = _rematched(rows.stored, rows.matching)
            finally:
                if relaxed:
                    database.execute_sql("PRAGMA synchronous=FULL")
    except BaseException as exc:  # noqa: BLE001 - every caller in the batch gets it
        if committed:  # the callers will keep their reads and retry: no second copy may stay
            try:
                _forget(committed)
            except Exception:  # noqa: BLE001 - the original error is the one to report
                logger.exception("could not remove %d reads of a failed write", len(committed))
        for rows in batch:
            rows.error, rows.stored = exc, []


def _rematched(stored: list[tuple], matching: _Matching) -> list[tuple]:
    """Alerts for hits of an index that changed while the rows were written; call after commit."""
    fresh = matching.since_write()
    if fresh is None:
        return stored
    with database.atomic():
        stored = [(read, alerts + _create_alerts(read, hits, skip={a.entry_id for a in alerts}))
                  for (read, alerts), hits in zip(stored, fresh, strict=True)]
    return [(read, sorted(alerts, key=lambda a: (a.priority, -a.quality))) for read, alerts in stored]


def _forget(reads: list[Read]) -> None:
    """Delete rows whose flush failed (their alerts and alert history with them)."""
    ids = [r.id for r in reads]
    with database.atomic():
        alert_ids = [a.id for a in Alert.select(Alert.id).where(Alert.read.in_(ids))]
        if alert_ids:
            AlertEvent.delete().where(AlertEvent.alert.in_(alert_ids)).execute()
            Alert.delete().where(Alert.id.in_(alert_ids)).execute()
        Read.delete().where(Read.id.in_(ids)).execute()


# SQLite's words for a data disk that cannot be written (remounted read-only after an I/O
# error, pulled, failing, a damaged database); "locked" is not among them: that passes by itself.
_DISK_FAULTS = ("readonly", "read-only", "disk i/o error", "unable to open", "malformed",
                "not a database")


def _warn_if_disk_fault(exc: BaseException) -> None:
    """Tell the officer when reads cannot be stored for the disk's sake: full, or unwritable."""
    from gateway.store import diskspace

    if isinstance(exc, DiskFullError) or "disk is full" in str(exc):  # ours or SQLite's
        diskspace.warn("the car's disk is full: reads could not be stored; free space or "
                       "restore the upload link")
    elif isinstance(exc, ImageStoreError) or (
            isinstance(exc, DatabaseError | sqlite3.DatabaseError)
            and any(words in str(exc).lower() for words in _DISK_FAULTS)):
        diskspace.warn(f"reads could not be stored ({exc}): check the car's data disk; the "
                       "gateway keeps the reads and tries again")


def _stage_images(images: ImageStore, news: list[NewRead]) -> list[tuple]:
    try:
        return [_stage_pair(images, new) for new in news]
    except DiskFullError:
        # Delivered cached images go first; then try once more.
        from gateway.store import diskspace

        diskspace.free_for_write(images)
        return [_stage_pair(images, new) for new in news]


def _stage_pair(images: ImageStore, new: NewRead) -> tuple:
    crop = images.stage(new.crop_jpeg) if new.crop_jpeg else None
    context = images.stage(new.context_jpeg) if new.context_jpeg else None
    return crop, context


_ROW_FIELDS = ("uid", "plate", "confidence", "candidates", "char_confidence", "state", "seen_at",
               "board_id", "camera", "latitude", "longitude", "crop_sha256", "context_sha256",
               "box", "frames", "upload_state", "created_at")
_INSERT_SQL: str | None = None


def _insert_rows(items: list[tuple[NewRead, tuple]], hits: list[list]) -> list[tuple]:
    """Insert the batch's rows with one cached statement.

    peewee's query builder costs about a millisecond of CPU per insert, a third
    of a stored read; the statement is built once from the model instead and
    values go through each field's own db_value, so the row is what Read.create
    would have written.
    """
    global _INSERT_SQL
    fields = [Read._meta.fields[name] for name in _ROW_FIELDS]
    if _INSERT_SQL is None:
        _INSERT_SQL = (f'INSERT INTO "{Read._meta.table_name}" ('
                       + ", ".join(f'"{f.column_name}"' for f in fields)
                       + ") VALUES (" + ", ".join("?" for _ in fields) + ")")
    now = utcnow()
    cursor = database.cursor()
    reads = []
    for new, (crop, context) in items:
        row = dict(
            uid=uuid.uuid4().hex, plate=new.plate, confidence=new.confidence,
            candidates=list(new.candidates), char_confidence=list(new.char_confidence),
            state=new.state, seen_at=new.seen_at, board_id=new.board_id, camera=new.camera,
            latitude=new.latitude, longitude=new.longitude, crop_sha256=crop.sha if crop else "",
            context_sha256=context.sha if context else "", box=new.box, frames=new.frames,
            upload_state="pending", created_at=now,
        )
        cursor.execute(_INSERT_SQL, [f.db_value(row[f.name]) for f in fields])
        reads.append(Read(id=cursor.lastrowid, **row))
    return [(read, _create_alerts(read, read_hits) if read_hits else [])
            for read, read_hits in zip(reads, hits, strict=True)]


_committer = _GroupCommitter()


def raise_alerts(read: Read) -> list[Alert]:
    """Match a stored read against the active lists; store one alert per entry hit."""
    from gateway.hotlist.match import get_matcher

    hits = get_matcher().match(candidate_texts(read))
    if not hits:
        return []
    with database.atomic():
        return _create_alerts(read, hits)


def _create_alerts(read: Read, hits: list, skip: frozenset | set = frozenset()) -> list[Alert]:
    """One alert (with its first history step) per live entry hit not in `skip`;
    call inside a transaction."""
    hits = [h for h in hits if h.entry_id not in skip]
    if not hits:
        return []
    alerts = []
    now = utcnow()
    for hit, entry_id, lst in _live_entries(hits):
        first = alert_steps.open_alert_to_repeat(lst.name, hit.entry, now)
        alert = Alert.create(
            read=read, entry=entry_id, list_name=lst.name, entry_plate=hit.entry,
            matched_text=hit.matched_text, match_kind=hit.kind, quality=hit.quality,
            priority=lst.priority, covert=lst.covert, created_at=now,
            status=alert_steps.REPEAT if first else "new", repeat_of_id=first.id if first else None,
        )
        seen_again = f"; seen again, a repeat of alert {first.id}" if first else ""
        AlertEvent.create(alert=alert, step="new", username="system",
                          note=f"{hit.kind} match, quality {hit.quality:.2f}{seen_again}")
        alerts.append(alert)
    alerts.sort(key=lambda a: (a.priority, -a.quality))
    logger.debug("read %s raised %d alerts", read.id, len(alerts))
    return alerts


def _live_entries(hits: list) -> list[tuple]:
    """(hit, live entry id, its list) for each hit on an entry its list holds now.

    The index may be a moment older than a list's replacement by another process (an import, the
    regional sync), which gives every entry a new id, and SQLite hands an emptied table's ids out
    again: an id alone may name nothing, or another plate. A hit counts if its id still names the
    same plate on the same list, or else that list still holds the plate under a new id; the
    list's current priority and covert flag go on the alert."""
    rows = {row.id: (row.hotlist_id, row.plate) for row in HotlistEntry.select(
        HotlistEntry.id, HotlistEntry.hotlist, HotlistEntry.plate).where(
        HotlistEntry.id.in_([h.entry_id for h in hits]))}
    lists = {lst.id: lst for lst in HotlistList.select().where(
        HotlistList.id.in_({h.list_id for h in hits}))}
    live = []
    for hit in hits:
        lst = lists.get(hit.list_id)
        if lst is None:
            continue
        entry_id = hit.entry_id
        if rows.get(entry_id) != (hit.list_id, hit.entry):
            row = HotlistEntry.select(HotlistEntry.id).where(
                (HotlistEntry.hotlist == hit.list_id) & (HotlistEntry.plate == hit.entry)
                & (HotlistEntry.expires_at.is_null() | (HotlistEntry.expires_at > utcnow()))
            ).first()
            if row is None:
                continue
            entry_id = row.id
        live.append((hit, entry_id, lst))
    return live


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
