"""A read reported stored survives the process being killed (SIGKILL) right after.

The writer keeps storing reads; it is killed as soon as five were reported,
so the kill lands in the middle of storing the next ones.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap

from gateway.datadir import DataDir
from gateway.store.db import open_database
from gateway.store.images import ImageStore
from gateway.store.models import Read

WRITER = textwrap.dedent("""
    import datetime as dt, sys
    from pathlib import Path
    from gateway.datadir import DataDir
    from gateway.store.db import open_database
    from gateway.store.images import ImageStore
    from gateway.store.reads import NewRead, save_read

    data = DataDir(Path(sys.argv[1])).ensure()
    open_database(data.database)
    images = ImageStore(data.images)
    i = 0
    while i < 100_000:
        read = save_read(NewRead(plate=f"KIL{i:04d}", confidence=0.9,
                                 seen_at=dt.datetime(2026, 11, 28, 9, 0),
                                 crop_jpeg=b"crop" + bytes([i % 256]) * 3000 + str(i).encode(),
                                 context_jpeg=b"ctx" + bytes([i % 256]) * 40000 + str(i).encode()),
                         images)
        print("stored", read.id, read.uid, read.crop_sha256, read.context_sha256, flush=True)
        i += 1
""")


def test_reported_reads_survive_sigkill(tmp_path):
    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(data)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    reported = []
    try:
        for line in proc.stdout:
            reported.append(line.split())
            if len(reported) == 5:
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert len(reported) == 5, proc.stderr.read()
    assert proc.returncode == -signal.SIGKILL

    dd = DataDir(data)
    db = open_database(dd.database)
    images = ImageStore(dd.images)
    try:
        for _, read_id, uid, crop, context in reported:
            read = Read.get_by_id(int(read_id))
            assert read.uid == uid
            assert hashlib.sha256(images.read(crop)).hexdigest() == crop
            assert hashlib.sha256(images.read(context)).hexdigest() == context
    finally:
        db.close()
