"""Retention (policy 462.4): reads and images go on day 366, or sooner once delivered.

- Day 366: a read seen on day 1 (its UTC date) is purged on day
  `retention_days + 1`, unless under an active evidence hold or records
  request.
- The car's own copy: once the regional server has the read and its images
  (upload_state "done"), the car keeps it `image_cache_days` more, then
  removes it (held reads stay).
- Image files no read names any more (a crash between a purge's commit and its
  file deletes, an image replaced under its read) are removed once they are
  an hour old (`remove_orphans`); younger ones may be a read being stored.
- Then free space is checked (diskspace.ensure_free).
Each run is written to the access record with its counts.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
from dataclasses import asdict, dataclass

from peewee import fn

from gateway.config import StoreConfig
from gateway.store import audit, diskspace
from gateway.store.images import ImageStore
from gateway.store.models import EvidenceHold, Read, database, utcnow

logger = logging.getLogger(__name__)
CHUNK = 500
# An image is put in place a moment before its row is written (ImageStore.put, the file-by-file
# path) or after it: younger files are left to the next run.
ORPHAN_GRACE_S = 3600
RETRY_AFTER_FAILURE_S = 300.0  # the stage's next try after a run failed
_IMAGE_NAME = re.compile(r"([0-9a-f]{64})\.jpg")


@dataclass
class RetentionResult:
    purged_reads: int = 0
    purged_undelivered: int = 0
    cache_removed_reads: int = 0
    removed_images: int = 0
    held_past_retention: int = 0
    expired_entries: int = 0
    free_mb: float = 0.0
    pruned_image_reads: int = 0
    orphan_images: int = 0
    warning: dict | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def retention_cutoff(now: dt.datetime, retention_days: int) -> dt.datetime:
    """Reads seen before this instant are on day retention_days+1 or later."""
    return dt.datetime.combine(now.date() - dt.timedelta(days=retention_days - 1), dt.time())


def _active_holds():
    return EvidenceHold.select(EvidenceHold.read).where(EvidenceHold.lifted_at.is_null())


def delete_reads(ids: list[int], images: ImageStore) -> tuple[list[int], int]:
    """Delete reads (and their alerts) and every image no remaining read uses, except reads under
    an active hold: one placed after `ids` were chosen (from another process, while this purge
    runs) still keeps its read. Returns the ids deleted and the images removed."""
    deleted: list[int] = []
    removed = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        # One transaction, begun with the write lock (open_database's default): no hold can be
        # placed between the check and the delete.
        with database.atomic():
            rows = list(Read.select(Read.id, Read.crop_sha256, Read.context_sha256).where(
                Read.id.in_(chunk) & Read.id.not_in(_active_holds())).tuples())
            gone = [rid for rid, _crop, _context in rows]
            shas = {sha for _rid, crop, context in rows for sha in (crop, context) if sha}
            Read.delete().where(Read.id.in_(gone)).execute()
        deleted += gone
        # Files after the commit: a crash in between leaves an orphan file, never a dangling row.
        for sha in shas:
            if not diskspace.referenced(sha) and images.delete(sha):
                removed += 1
    return deleted, removed


def remove_orphans(images: ImageStore, grace_s: float = ORPHAN_GRACE_S) -> int:
    """Remove image files no read refers to (as `diskspace.referenced` counts them) that are
    older than `grace_s`; returns how many. One indexed range query per `images/<aa>/` folder."""
    if not images.root.is_dir():
        return 0
    cutoff = time.time() - grace_s
    removed = 0
    for folder in sorted(os.scandir(images.root), key=lambda e: e.name):
        if not (len(folder.name) == 2 and folder.is_dir()):
            continue
        found = set()
        with os.scandir(folder.path) as entries:
            for entry in entries:
                name = _IMAGE_NAME.fullmatch(entry.name)
                try:
                    if name and name[1].startswith(folder.name) and entry.stat().st_mtime < cutoff:
                        found.add(name[1])
                except FileNotFoundError:
                    continue
        if not found:
            continue
        low, high = folder.name, folder.name + "g"  # every hex name starting with the folder's
        used = set()
        for column in (Read.crop_sha256, Read.context_sha256):
            used.update(sha for (sha,) in Read.select(column).where(
                column.between(low, high) & Read.images_pruned_at.is_null()).tuples())
        for sha in found - used:
            if not diskspace.referenced(sha) and images.delete(sha):  # a read stored meanwhile
                removed += 1
    if removed:
        logger.info("removed %d image files no read refers to", removed)
    return removed


def run(images: ImageStore, store: StoreConfig, now: dt.datetime | None = None,
        username: str = "system") -> RetentionResult:
    now = now or utcnow()
    result = RetentionResult()
    cutoff = retention_cutoff(now, store.retention_days)
    old = Read.select(Read.id, Read.upload_state).where(Read.seen_at < cutoff)
    expired = dict(old.where(Read.id.not_in(_active_holds())).tuples())
    purged, removed = delete_reads(list(expired), images)
    result.removed_images += removed
    result.purged_reads = len(purged)
    result.purged_undelivered = sum(1 for rid in purged if expired[rid] != "done")
    result.held_past_retention = old.where(Read.id.in_(_active_holds())).count()
    if result.purged_undelivered:
        logger.warning("%d reads reached day %d before the regional server had them; purged as "
                       "policy requires", result.purged_undelivered, store.retention_days + 1)

    cache_cutoff = now - dt.timedelta(days=store.image_cache_days)
    delivered = [rid for (rid,) in Read.select(Read.id).where(
        (Read.upload_state == "done")
        & (fn.COALESCE(Read.images_uploaded_at, Read.uploaded_at) < cache_cutoff)
        & Read.id.not_in(_active_holds())).tuples()]
    cached, removed = delete_reads(delivered, images)
    result.removed_images += removed
    result.cache_removed_reads = len(cached)

    from gateway.hotlist import wanted

    result.expired_entries = wanted.purge_expired(now, username)
    result.orphan_images = remove_orphans(images)
    disk = diskspace.ensure_free(images, store.min_free_mb)
    result.free_mb = disk["free_mb"]
    result.pruned_image_reads = disk["pruned_reads"]
    result.warning = disk["warning"]
    audit.record("retention.purge", username=username,
                 query=f"reads seen before {cutoff.isoformat()}Z; delivered before "
                       f"{cache_cutoff.isoformat()}Z",
                 detail=(f"purged {result.purged_reads} ({result.purged_undelivered} undelivered), "
                         f"cache removed {result.cache_removed_reads}, images removed "
                         f"{result.removed_images}, kept under hold {result.held_past_retention}, "
                         f"orphan images removed {result.orphan_images}"))
    return result


class RetentionStage:
    """Runs retention every `every_s` seconds as a supervised stage (gateway.stages)."""

    name = "retention"

    def __init__(self, images: ImageStore, store: StoreConfig, every_s: float = 3600.0):
        self.images = images
        self.store = store
        self.every_s = every_s

    def run(self, stop) -> None:
        while not stop.is_set():
            try:
                result = run(self.images, self.store)
            except Exception:  # noqa: BLE001 - a failed run must not end retention for good
                # Dying here let the supervisor's quick restarts run out in seconds (a full disk
                # refusing the database's writes fails every run alike), and retention stopped
                # until the gateway was restarted.
                logger.exception("retention run failed; trying again in %.0f s",
                                 RETRY_AFTER_FAILURE_S)
                stop.wait(min(self.every_s, RETRY_AFTER_FAILURE_S))
                continue
            if result.purged_reads or result.cache_removed_reads:
                logger.info("retention: %d reads purged, %d delivered reads removed",
                            result.purged_reads, result.cache_removed_reads)
            stop.wait(self.every_s)
