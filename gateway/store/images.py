"""Plate crops and context images kept as files named by their SHA-256.

`images/<aa>/<sha>.jpg`: content addressed, so the same context image shared
by two plates of one frame is stored once, and an export can prove an image
is unchanged by its name. Each file is written to a temporary name, fsync'd
and renamed, so a power cut leaves either the whole image or none.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import tempfile
from pathlib import Path

from gateway.errors import AlprError

logger = logging.getLogger(__name__)


class ImageStoreError(AlprError):
    """An image could not be stored or read."""


class DiskFullError(ImageStoreError):
    """No space left on the data folder's disk."""


def _is_sha(sha: str) -> bool:
    return len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)


class ImageStore:
    """Content-addressed JPEG files under `root` (normally `<data>/images`)."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, sha: str) -> Path:
        if not _is_sha(sha):
            raise ImageStoreError(f"not an image name (64 lower-case hex digits expected): {sha!r}")
        return self.root / sha[:2] / f"{sha}.jpg"

    def exists(self, sha: str) -> bool:
        return bool(sha) and self.path(sha).exists()

    def put(self, data: bytes) -> str:
        """Store `data` durably and return its SHA-256 (hex)."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if target.exists():
            return sha
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".img-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_dir(target.parent)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise DiskFullError(f"the disk holding {self.root} is full") from None
            raise ImageStoreError(f"cannot write image under {self.root}: {exc.strerror}") from None
        return sha

    def read(self, sha: str) -> bytes:
        try:
            return self.path(sha).read_bytes()
        except FileNotFoundError:
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


def _fsync_dir(path: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
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
