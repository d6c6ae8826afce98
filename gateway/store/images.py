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
import itertools
import logging
import os
import re
import sys
from pathlib import Path

from gateway.errors import AlprError

logger = logging.getLogger(__name__)


class ImageStoreError(AlprError):
    """An image could not be stored or read."""


class DiskFullError(ImageStoreError):
    """No space left on the data folder's disk."""


_TMP_SERIAL = itertools.count()  # next() on a count is atomic under the GIL
_SHA = re.compile(r"[0-9a-f]{64}")


def _is_sha(sha: str) -> bool:
    return bool(_SHA.fullmatch(sha))


class Staged:
    """An image written under a temporary name, not yet durable or in place.

    Paths are kept as strings: a stored read stages two images, and pathlib
    objects cost more than the system calls they name.
    """

    __slots__ = ("sha", "tmp_name", "target_name")

    def __init__(self, sha: str, tmp: str | None, target: str):
        self.sha, self.tmp_name, self.target_name = sha, tmp, target

    @property
    def tmp(self) -> Path | None:  # None: the image was already stored
        return None if self.tmp_name is None else Path(self.tmp_name)

    @property
    def target(self) -> Path:
        return Path(self.target_name)


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
        self._root_name = str(self.root)
        self._folders: set[str] = set()  # sub-folders known to exist: one mkdir each, not one per image

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
        folder = f"{self._root_name}/{sha[:2]}"
        target = f"{folder}/{sha}.jpg"
        if os.path.exists(target):
            return Staged(sha, None, target)
        try:
            if sha[:2] not in self._folders:
                os.makedirs(folder, exist_ok=True)
                self._folders.add(sha[:2])
            # A name unique to this process and call (cheaper than mkstemp's random tries).
            tmp = f"{folder}/.{sha}.{os.getpid()}-{next(_TMP_SERIAL)}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            except OSError:
                os.unlink(tmp)
                raise
            finally:
                os.close(fd)
        except OSError as exc:
            raise _translate(exc, self.root) from None
        return Staged(sha, tmp, target)

    def commit(self, staged: list[Staged]) -> None:
        """Make staged images durable and put them in place."""
        pending = [s for s in staged if s.tmp_name is not None]
        if not pending:
            return
        try:
            if not _syncfs(self.root):
                for item in pending:
                    _fsync_path(item.tmp_name)
                for folder in {os.path.dirname(item.tmp_name) for item in pending}:
                    fsync_dir(folder)
        except OSError as exc:
            self.discard(pending)
            raise _translate(exc, self.root) from None
        self.place(pending)

    def flush(self) -> None:
        """Make everything written on the images' filesystem durable (one syncfs);
        ImageStoreError where that is impossible. See `flushes_with`."""
        try:
            if not _syncfs(self.root):
                raise OSError(errno.EIO, "the filesystem could not be flushed")
        except OSError as exc:
            raise _translate(exc, self.root) from None

    def place(self, staged: list[Staged]) -> None:
        """Rename flushed images into place (a crash before this is undone by `recover`)."""
        try:
            for item in staged:
                if item.tmp_name is None:
                    continue
                try:
                    os.replace(item.tmp_name, item.target_name)
                except FileNotFoundError:
                    # A reader's lookup recovered this very file a moment ago.
                    if not os.path.exists(item.target_name):
                        raise
        except OSError as exc:
            self.discard(staged)
            raise _translate(exc, self.root) from None

    def flushes_with(self, path: Path | str) -> bool:
        """True if one `flush()` also makes `path`'s written data durable:
        syncfs(2) is available and `path` lies on the images' filesystem."""
        if _SYNCFS is None:
            return False
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            return os.stat(path).st_dev == os.stat(self.root).st_dev
        except OSError:
            return False

    def discard(self, staged: list[Staged]) -> None:
        for item in staged:
            if item.tmp_name is not None:
                try:
                    os.unlink(item.tmp_name)
                except FileNotFoundError:
                    pass

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


def fsync_dir(path: Path) -> None:
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
