"""Plate crops and context images kept as files named by their SHA-256.

`images/<aa>/<sha>.jpg`: content addressed, so the same context image shared
by two plates of one frame is stored once, and an export can prove an image
is unchanged by its name. Each file is written to a temporary name, fsync'd
and renamed, so a power cut leaves either the whole image or none.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import AlprError

logger = logging.getLogger(__name__)


class ImageStoreError(AlprError):
    """An image could not be stored or read."""


class DiskFullError(ImageStoreError):
    """No space left on the data folder's disk."""


def _is_sha(sha: str) -> bool:
    return len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)


@dataclass
class Staged:
    """An image written under a temporary name, not yet durable or in place."""

    sha: str
    tmp: Path | None  # None: the image was already stored
    target: Path


class ImageStore:
    """Content-addressed JPEG files under `root` (normally `<data>/images`).

    Writing is two-phase so that many images share the cost of flushing:
    `stage()` writes `.<sha>.<unique>.tmp`, `commit()` fsyncs the files and
    their folders and renames them into place. A crash after the fsync but
    before the rename reached the disk leaves a complete temporary file,
    which `recover()` (and any lookup of that image) puts in place.
    """

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, sha: str) -> Path:
        if not _is_sha(sha):
            raise ImageStoreError(f"not an image name (64 lower-case hex digits expected): {sha!r}")
        return self.root / sha[:2] / f"{sha}.jpg"

    def exists(self, sha: str) -> bool:
        return bool(sha) and (self.path(sha).exists() or self._recover_one(sha))

    def put(self, data: bytes) -> str:
        """Store `data` durably and return its SHA-256 (hex)."""
        staged = self.stage(data)
        self.commit([staged])
        return staged.sha

    def stage(self, data: bytes) -> Staged:
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if target.exists():
            return Staged(sha, None, target)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{sha}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
            except OSError:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise _translate(exc, self.root) from None
        return Staged(sha, Path(tmp), target)

    def commit(self, staged: list[Staged]) -> None:
        """Make staged images durable and put them in place."""
        pending = [s for s in staged if s.tmp is not None]
        if not pending:
            return
        try:
            if not _syncfs(self.root):
                for item in pending:
                    _fsync_path(item.tmp)
                for folder in {item.tmp.parent for item in pending}:
                    _fsync_dir(folder)
            for item in pending:
                os.replace(item.tmp, item.target)
        except OSError as exc:
            self.discard(pending)
            raise _translate(exc, self.root) from None

    def discard(self, staged: list[Staged]) -> None:
        for item in staged:
            if item.tmp is not None:
                item.tmp.unlink(missing_ok=True)

    def read(self, sha: str) -> bytes:
        try:
            return self.path(sha).read_bytes()
        except FileNotFoundError:
            if self._recover_one(sha):
                return self.path(sha).read_bytes()
            raise ImageStoreError(f"image {sha} is not stored (pruned or never written)") from None

    def delete(self, sha: str) -> bool:
        """Remove an image; True if a file was removed."""
        if not sha:
            return False
        try:
            self.path(sha).unlink()
            return True
        except FileNotFoundError:
            return False

    def size(self, sha: str) -> int:
        try:
            return self.path(sha).stat().st_size
        except FileNotFoundError:
            return 0

    def recover(self) -> int:
        """After a crash: put complete temporary files in place, remove torn ones."""
        restored = 0
        if not self.root.exists():
            return 0
        for tmp in self.root.glob("*/.*.tmp"):
            sha = tmp.name[1:65]
            if _is_sha(sha) and _file_sha(tmp) == sha:
                os.replace(tmp, self.path(sha))
                restored += 1
            else:
                tmp.unlink(missing_ok=True)
        if restored:
            logger.info("recovered %d images written just before a crash", restored)
        return restored

    def _recover_one(self, sha: str) -> bool:
        folder = self.root / sha[:2]
        for tmp in folder.glob(f".{sha}.*.tmp") if folder.exists() else ():
            if _file_sha(tmp) == sha:
                os.replace(tmp, self.path(sha))
                return True
        return False


def _translate(exc: OSError, root: Path) -> ImageStoreError:
    if exc.errno == errno.ENOSPC:
        return DiskFullError(f"the disk holding {root} is full")
    return ImageStoreError(f"cannot write image under {root}: {exc.strerror}")


def _file_sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _load_syncfs():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.syncfs
    except (OSError, AttributeError):
        return None


_SYNCFS = _load_syncfs() if sys.platform.startswith("linux") else None


def _syncfs(root: Path) -> bool:
    """Flush the whole filesystem holding `root` in one call (Linux syncfs(2)).

    One syncfs makes every staged file and its directory entry durable; on
    the car's disk it costs about one fsync, where per-file fsyncs of a
    crop, a context image and their two folders cost four. False where
    syncfs is unavailable or failed, and the caller fsyncs file by file.
    """
    if _SYNCFS is None:
        return False
    fd = os.open(root, os.O_RDONLY)
    try:
        return _SYNCFS(fd) == 0
    finally:
        os.close(fd)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # A new file's name is durable only once its directory is.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
