"""Running scripts under the real MicroPython Unix port, with shared/ and firmware/ importable."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_mp(micropython_bin: str, script: str, stdin: bytes = b"", timeout: float = 60.0) -> str:
    """Run `script` with the micropython binary; return stdout, fail on a non-zero exit."""
    env = {**os.environ, "MICROPYPATH": f".frozen:{REPO}:{REPO / 'firmware'}"}
    proc = subprocess.run([micropython_bin, "-X", "heapsize=8M", "-c", script], input=stdin,
                          capture_output=True, timeout=timeout, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise AssertionError(f"micropython exited {proc.returncode}:\n{proc.stdout.decode()}\n"
                             f"{proc.stderr.decode()}")
    return proc.stdout.decode()
