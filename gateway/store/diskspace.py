"""A full disk: delivered cached images go first, undelivered reads never.

When free space on the data folder's disk drops under `store.min_free_mb`,
images of reads the regional server already has (upload_state "done") are
removed, oldest first, never those under an evidence hold. If that is not
enough the officer is warned: a `warning` event on the bus and a lasting
entry in the Setting table (`warning.disk`) that the UI shows until space
returns. A read that cannot be written raises DiskFullError to its caller;
it is never dropped silently.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3

from peewee import DatabaseError

from gateway.events import bus
from gateway.store.images import ImageStore
from gateway.store.models import EvidenceHold, Read, Setting, utcnow

logger = logging.getLogger(__name__)

WARNING_KEY = "warning.disk"


def free_mb(images: ImageStore) -> float:
    images.root.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(images.root).free / (1024 * 1024)


def _held_read_ids():
    return (EvidenceHold.select(EvidenceHold.read).where(EvidenceHold.lifted_at.is_null()))


def referenced(sha: str) -> bool:
    """Whether any read still holding its images uses this image."""
    if not sha:
        return False
    return Read.select(Read.id).where(
        ((Read.crop_sha256 == sha) | (Read.context_sha256 == sha))
        & Read.images_pruned_at.is_null()).exists()


def prune_delivered_images(images: ImageStore, batch: int = 200) -> tuple[int, int]:
    """Remove the images of up to `batch` delivered reads, oldest first.

    Returns (reads pruned, bytes freed).
    """
    reads = list(Read.select().where(
        (Read.upload_state == "done") & Read.images_pruned_at.is_null()
        & ((Read.crop_sha256 != "") | (Read.context_sha256 != ""))
        & Read.id.not_in(_held_read_ids())).order_by(Read.seen_at).limit(batch))
    freed = 0
    pruned = 0
    for read in reads:
        # The hold check again in the statement that marks the read: a hold placed since the
        # reads were chosen keeps its images.
        if not Read.update(images_pruned_at=utcnow()).where(
                (Read.id == read.id) & Read.id.not_in(_held_read_ids())).execute():
            continue
        pruned += 1
        for sha in (read.crop_sha256, read.context_sha256):
            if sha and not referenced(sha):
                size = images.size(sha)
                if images.delete(sha):
                    freed += size
    if pruned:
        logger.info("pruned the images of %d delivered reads (%d bytes)", pruned, freed)
    return pruned, freed


def warn(message: str) -> None:
    """Tell the officer: an event now and a lasting Setting the UI shows.

    Never raises: on a disk that is really full the database cannot take the Setting either
    ("database or disk is full"), and that must neither stop the event nor hide the caller's own
    error (DiskFullError) behind a database one."""
    logger.warning("%s", message)
    bus.publish("warning", source="disk", message=message)
    value = {"message": message, "at": str(utcnow())}
    try:
        Setting.insert(key=WARNING_KEY, value=value, updated_at=utcnow()).on_conflict(
            conflict_target=[Setting.key], update={Setting.value: value, Setting.updated_at: utcnow()}
        ).execute()
    except (DatabaseError, sqlite3.DatabaseError) as exc:
        logger.warning("the disk warning could not be kept in the database: %s", exc)


def clear_warning() -> None:
    """Space is back: the lasting warning goes, and an empty one takes it off the live screen."""
    Setting.delete().where(Setting.key == WARNING_KEY).execute()
    bus.publish("warning", source="disk", message="")


def current_warning() -> dict | None:
    row = Setting.get_or_none(Setting.key == WARNING_KEY)
    return row.value if row else None


def ensure_free(images: ImageStore, min_free_mb: int) -> dict:
    """Prune delivered images until `min_free_mb` is free; warn if that is not enough."""
    pruned = 0
    while free_mb(images) < min_free_mb:
        count, _ = prune_delivered_images(images)
        if count == 0:
            break
        pruned += count
    free = free_mb(images)
    if free < min_free_mb:
        warn(f"the car's disk is nearly full ({free:.0f} MB free, {min_free_mb} MB wanted) and no "
             "delivered images are left to remove; undelivered reads are kept; "
             "check the upload link or free space")
    elif current_warning() is not None:
        clear_warning()
    return {"free_mb": round(free, 1), "pruned_reads": pruned, "warning": current_warning()}


def free_for_write(images: ImageStore) -> int:
    """The disk was full writing a read: remove delivered images (oldest first).

    Returns how many reads' images were pruned; 0 means nothing was left to
    remove, and the officer is warned.
    """
    total = 0
    for _ in range(5):
        try:
            count, _freed = prune_delivered_images(images, batch=500)
        except (DatabaseError, sqlite3.DatabaseError) as exc:
            # Marking a read's images pruned is itself a write, which a full disk can refuse.
            logger.warning("delivered images could not be pruned: %s", exc)
            break
        total += count
        if count == 0:
            break
    if total == 0:
        warn("the car's disk is full and no delivered images are left to remove; "
             "new reads cannot be stored until space is freed or the upload link returns")
    return total
