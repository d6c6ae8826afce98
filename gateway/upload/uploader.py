"""The upload engine: a dispatcher picks unsent reads from the database and
hands batches to a few sender threads, data before images.

The database is the only state that matters. A read is `pending` until the
server has confirmed its batch (then `data_sent`, or `done` when it has no
images), and `done` once its images are confirmed. A crash between sending
and marking just sends that batch again, and the server, keyed by `Read.uid`,
stores it once. Senders retry forever with exponential backoff and jitter, so
hours offline only grow the backlog.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from gateway.config import Config
from gateway.store.images import ImageStore, ImageStoreError
from gateway.store.models import Read, Setting, database, utcnow
from gateway.upload.backoff import Backoff
from gateway.upload.codec import CONTENT_TYPE, encode_batch, row_from_read
from gateway.upload.throttle import ThrottledBody, TokenBucket
from gateway.upload.transport import make_session

logger = logging.getLogger(__name__)

LAST_SUCCESS_KEY = "upload.last_success"
# The last failure, kept in the database so `alpr upload status` (another process)
# can say why the car is not delivering (a revoked certificate's 403, say).
LAST_ERROR_KEY = "upload.last_error"
IMAGE_JOB_READS = 5  # small jobs, so every connection carries images
_CHUNK = 5000  # ids per UPDATE, well under SQLite's variable limit

DATA_FIELDS = (
    Read.id, Read.uid, Read.plate, Read.confidence, Read.candidates, Read.state, Read.seen_at,
    Read.board_id, Read.camera, Read.latitude, Read.longitude, Read.crop_sha256,
    Read.context_sha256, Read.box, Read.frames, Read.revision,
)


class RetryableError(Exception):
    """The server or the link failed this time; the same job is tried again later."""


@dataclass
class Job:
    kind: str  # data | images
    rows: list[dict]
    body: bytes = b""  # the encoded part of `rows` now being sent (data jobs)
    body_count: int = 0  # how many of `rows`, from the first, `body` holds
    done: set[int] = field(default_factory=set)  # image jobs: reads already confirmed

    @property
    def ids(self) -> list[int]:
        return [r["id"] for r in self.rows]


def _put_setting(key: str, value: str) -> None:
    now = utcnow()
    Setting.insert(key=key, value=value, updated_at=now).on_conflict(
        conflict_target=[Setting.key], update={Setting.value: value, Setting.updated_at: now}
    ).execute()


class Uploader:
    def __init__(self, config: Config, root: Path, session_factory: Callable | None = None,
                 send_images: bool = True):
        self.cfg = config.upload
        self.send_images = send_images
        self.root = Path(root)
        self.images = ImageStore(self.root / "images")
        rate = self.cfg.bandwidth_kbps * 1000 / 8
        self.bucket = TokenBucket(rate) if rate > 0 else None
        self._session_factory = session_factory or (
            lambda: make_session(self.cfg, self.root, pool=2)
        )
        self.wake = threading.Event()
        self._ramp = 0
        # Reads per data request, adapted to the link: halved after a request timed out
        # waiting for its answer, doubled again after quick successes. A slow link cannot
        # carry a full batch within timeout_s, and resending the whole batch after every
        # timeout would never deliver it (the backlog stalled for good).
        self._limit = self.cfg.batch_size
        self._error_saved = True  # a failure from a previous run may be saved: clear it once
        self._lock = threading.Lock()
        self._inflight = {"data": set(), "images": set()}
        self._queues = {
            "data": queue.Queue(maxsize=self.cfg.connections * 2),
            "images": queue.Queue(maxsize=self.cfg.connections),
        }
        self.counters = {
            "reads_sent": 0, "batches_sent": 0, "bytes_sent": 0, "images_sent": 0,
            "failures": 0, "last_error": "", "last_error_at": None, "last_success_at": None,
        }

    # -- dispatcher -------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        workers = [
            threading.Thread(target=self._worker, args=(stop,), name=f"upload-{i}", daemon=True)
            for i in range(self.cfg.connections)
        ]
        for w in workers:
            w.start()
        try:
            self._dispatch(stop)
        finally:
            for w in workers:
                w.join(timeout=self.cfg.timeout_s + 5)

    def _dispatch(self, stop: threading.Event) -> None:
        cursors = {"data": 0, "images": 0}
        while not stop.is_set():
            # Cleared before looking, so a wake-up that arrives meanwhile is not lost.
            self.wake.clear()
            queued = self._offer("data", cursors, self._select_data, stop)
            if not queued and self.send_images and not self._pending_data_waiting():
                queued = self._offer("images", cursors, self._select_images, stop)
            if not queued:
                self.wake.wait(2.0)

    def _offer(self, kind, cursors, select, stop) -> bool:
        q = self._queues[kind]
        if q.full():
            return False
        with self._lock:
            idle = not self._inflight[kind]
        if idle:
            cursors[kind] = 0  # nothing in flight: rescan from the start, so nothing is skipped
            self._ramp = 0
        limit = self.batch_limit() if kind == "data" else self.cfg.batch_size
        if kind == "data" and self._ramp < self.cfg.connections:
            # Stagger the first batches of a drain (1/n, 2/n ... of a batch), so the
            # connections do not all finish together and leave the link idle while
            # they wait for their answers and open new connections.
            self._ramp += 1
            limit = max(1, limit * self._ramp // self.cfg.connections)
        rows = select(cursors[kind], limit)
        if not rows:
            return False
        job = Job(kind, rows)
        with self._lock:
            self._inflight[kind].update(job.ids)
        cursors[kind] = job.ids[-1]
        while not stop.is_set():
            try:
                q.put(job, timeout=0.5)
                return True
            except queue.Full:
                continue
        self._release(job)
        return False

    def batch_limit(self) -> int:
        with self._lock:
            return self._limit

    def _shrink(self, sent: int) -> None:
        # Half of what timed out, not half of the limit: the connections' batches that
        # time out together halve it once, not once each.
        new = max(1, sent // 2)
        with self._lock:
            if new < self._limit:
                logger.warning("upload: a batch of %d reads timed out; sending %d at a time",
                               sent, new)
                self._limit = new

    def _grow(self, sent: int, elapsed: float) -> None:
        # Double only when the answer came well within the timeout, so that twice the
        # body would still fit; otherwise the limit would swing back into timeouts.
        if elapsed * 2.5 > self.cfg.timeout_s:
            return
        with self._lock:
            if sent >= self._limit:
                self._limit = min(self.cfg.batch_size, self._limit * 2)

    def _pending_data_waiting(self) -> bool:
        if not self._queues["data"].empty():
            return True
        with self._lock:
            return bool(self._inflight["data"])

    def _select_data(self, after: int, limit: int) -> list[dict]:
        return list(
            Read.select(*DATA_FIELDS)
            .where((Read.upload_state == "pending") & (Read.id > after))
            .order_by(Read.id)
            .limit(limit)
            .dicts()
        )

    def _select_images(self, after: int, limit: int) -> list[dict]:
        return list(
            Read.select(Read.id, Read.uid, Read.crop_sha256, Read.context_sha256)
            .where((Read.upload_state == "data_sent") & (Read.id > after))
            .order_by(Read.id)
            .limit(min(limit, IMAGE_JOB_READS))
            .dicts()
        )

    def _release(self, job: Job) -> None:
        with self._lock:
            self._inflight[job.kind].difference_update(job.ids)
        self.wake.set()  # room in the pipeline: the dispatcher refills it at once

    # -- senders ----------------------------------------------------------

    def _next_job(self) -> Job | None:
        try:
            job = self._queues["data"].get_nowait()  # data always before images
        except queue.Empty:
            try:
                job = self._queues["images"].get(timeout=0.2)
            except queue.Empty:
                return None
        self.wake.set()  # a queue slot is free
        return job

    def _worker(self, stop: threading.Event) -> None:
        backoff = Backoff(self.cfg.retry_base_s, self.cfg.retry_max_s)
        session = base = None
        while not stop.is_set():
            job = self._next_job()
            if job is None:
                continue
            try:
                while not stop.is_set():
                    try:
                        if session is None:
                            session, base = self._session_factory()
                        if job.kind == "data":
                            self._send_data(job, session, base, stop)
                        else:
                            self._send_images(job, session, base, stop)
                        backoff.reset()
                        break
                    except (RetryableError, requests.RequestException) as exc:
                        self._failed(exc)
                        if session is not None and not isinstance(exc, RetryableError):
                            session.close()  # a broken connection is not reused
                            session = None
                        stop.wait(backoff.next_delay())
                    except Exception as exc:  # noqa: BLE001 - a sender must never die holding a job
                        logger.exception("upload job failed unexpectedly; it will be retried")
                        self._failed(exc)
                        stop.wait(backoff.next_delay())
            finally:
                self._release(job)
        if session is not None:
            session.close()

    def _failed(self, exc: Exception) -> None:
        message = str(exc) or type(exc).__name__
        logger.warning("upload failed, will retry: %s", message)
        now = utcnow()
        with self._lock:
            self.counters["failures"] += 1
            self.counters["last_error"] = message[:300]
            self.counters["last_error_at"] = now
            self._error_saved = True
        try:
            _put_setting(LAST_ERROR_KEY, json.dumps({"error": message[:300], "at": now.isoformat()}))
        except Exception:  # noqa: BLE001 - the status line must never stop a sender
            logger.debug("could not record the upload error", exc_info=True)

    def _clear_saved_error(self) -> None:
        """After a confirmed upload the saved failure is history: no stale reason in status."""
        with self._lock:
            if not self._error_saved:
                return
            self._error_saved = False
        Setting.delete().where(Setting.key == LAST_ERROR_KEY).execute()

    def _request(self, session, method: str, url: str, body: bytes, headers: dict,
                 stop) -> requests.Response:
        resp = session.request(
            method, url,
            data=ThrottledBody(body, self.bucket, stop),
            headers=headers,
            timeout=(min(10.0, self.cfg.timeout_s), self.cfg.timeout_s),
        )
        if resp.status_code == 403:
            raise RetryableError(
                f"the regional server refused this car (403): {resp.text[:200]} - "
                "its certificate may be revoked; ask the region for a new one"
            )
        if resp.status_code >= 500 or resp.status_code in (408, 425, 429):
            raise RetryableError(f"regional server answered {resp.status_code}")
        return resp

    def _send_data(self, job: Job, session, base: str, stop) -> None:
        # The job is sent in parts of the current batch limit; a confirmed part leaves
        # the job, so a retry after a timeout sends only what is left, in smaller parts.
        while job.rows and not stop.is_set():
            size = min(len(job.rows), self.batch_limit())
            part = job.rows[:size]
            if job.body_count != size or not job.body:
                job.body = encode_batch([row_from_read(r) for r in part])
                job.body_count = size
            started = time.monotonic()
            try:
                resp = self._request(
                    session, "POST", f"{base}/api/v1/reads", job.body,
                    {"Content-Type": CONTENT_TYPE, "Content-Encoding": "gzip"}, stop,
                )
            except requests.ReadTimeout:
                self._shrink(size)
                raise
            if resp.status_code != 200:
                # A batch the server rejects is kept and retried at the slow end of the
                # backoff: dropping it would lose reads, and the message says why.
                raise RetryableError(f"regional server rejected a batch ({resp.status_code}): "
                                     f"{resp.text[:200]}")
            answer = resp.json()
            if answer.get("received") != len(part):
                raise RetryableError(f"server confirmed {answer.get('received')} of {len(part)} reads")
            self._grow(size, time.monotonic() - started)
            self._mark_data_sent(part)
            with self._lock:
                self.counters["reads_sent"] += len(part)
                self.counters["batches_sent"] += 1
                self.counters["bytes_sent"] += len(job.body)
                self._inflight["data"].difference_update(r["id"] for r in part)
            job.rows = job.rows[size:]
            job.body, job.body_count = b"", 0
            if any(r["crop_sha256"] or r["context_sha256"] for r in part):
                self.wake.set()  # images may go now

    def _mark_data_sent(self, rows: list[dict]) -> None:
        now = utcnow()
        # By the revision sent: one revised meanwhile (a later burst of its pass) stays pending
        # and goes again. Nearly every row is at revision 0, so this is one statement a chunk.
        groups: dict[tuple[bool, int], list[int]] = {}
        for r in rows:
            has_images = bool(r["crop_sha256"] or r["context_sha256"])
            groups.setdefault((has_images, r.get("revision") or 0), []).append(r["id"])
        with database.atomic():
            for (has_images, revision), ids in groups.items():
                fields = ({"upload_state": "data_sent", "uploaded_at": now} if has_images else
                          {"upload_state": "done", "uploaded_at": now, "images_uploaded_at": now})
                for i in range(0, len(ids), _CHUNK):
                    Read.update(**fields).where(
                        Read.id.in_(ids[i : i + _CHUNK]) & (Read.upload_state == "pending")
                        & (Read.revision == revision)
                    ).execute()
            _put_setting(LAST_SUCCESS_KEY, now.isoformat())
        with self._lock:
            self.counters["last_success_at"] = now
        self._clear_saved_error()

    def _send_images(self, job: Job, session, base: str, stop) -> None:
        for row in job.rows:
            if row["id"] in job.done or stop.is_set():
                continue
            outcome = "done"
            for kind in ("crop", "context"):
                sha = row[f"{kind}_sha256"]
                if not sha:
                    continue
                try:
                    data = self.images.read(sha)
                except ImageStoreError as exc:
                    logger.error("read %s: %s; sent without its %s image", row["uid"], exc, kind)
                    continue
                resp = self._request(
                    session, "PUT", f"{base}/api/v1/reads/{row['uid']}/images/{kind}", data,
                    {"Content-Type": "image/jpeg", "X-Content-SHA256": sha}, stop,
                )
                if resp.status_code == 404:
                    outcome = "pending"  # the server lost the read: its data goes again
                    break
                if resp.status_code == 409:
                    # The file no longer matches its name: corrupted on the car's disk.
                    logger.error("read %s: server refused its %s image: %s",
                                 row["uid"], kind, resp.text[:200])
                    continue
                if resp.status_code not in (200, 201):
                    raise RetryableError(f"regional server answered {resp.status_code} "
                                         f"to an image: {resp.text[:200]}")
                with self._lock:
                    self.counters["images_sent"] += 1
                    self.counters["bytes_sent"] += len(data)
            self._mark_images(row["id"], outcome)
            job.done.add(row["id"])

    def _mark_images(self, read_id: int, outcome: str) -> None:
        now = utcnow()
        with database.atomic():
            if outcome == "done":
                Read.update(upload_state="done", images_uploaded_at=now).where(
                    (Read.id == read_id) & (Read.upload_state == "data_sent")
                ).execute()
                _put_setting(LAST_SUCCESS_KEY, now.isoformat())
            else:
                Read.update(upload_state="pending", uploaded_at=None).where(Read.id == read_id).execute()
        with self._lock:
            self.counters["last_success_at"] = now

    def snapshot(self) -> dict:
        with self._lock:
            out = dict(self.counters)
        for key in ("last_error_at", "last_success_at"):
            if isinstance(out[key], dt.datetime):
                out[key] = out[key].isoformat()
        return out
