"""`alpr bench upload`: drain a backlog of reads over a simulated cellular link.

The real reference server runs as a subprocess on loopback; between it and
the uploader sits tools.regional.linksim (2 Mbit/s each way, 100 ms round
trip, 1 % of requests' connections reset). Prints what the server stored
against what the car held, the bytes per read on the wire, and the drain
time against what the link's bandwidth allows for those bytes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from gateway.errors import AlprError
from tools.cli.common import add_json, at_least, at_least_float, emit

logger = logging.getLogger(__name__)

STALL_S = 180  # no read delivered for this long: the bench stops and says so, not hang


class UploadBenchError(AlprError):
    """The upload bench could not run or stopped making progress."""


def _rate(text: str) -> float:
    value = at_least_float(0.0)(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"{text} is a share of requests: 0 to less than 1")
    return value


def register(subparsers) -> None:
    p = subparsers.add_parser("upload", help="drain a read backlog over a simulated cellular link")
    p.add_argument("--reads", type=at_least(1), default=100_000)
    p.add_argument("--bandwidth-kbps", type=at_least_float(0.0), default=2000.0,
                   help="link rate each way; 0 = no cap, as upload.bandwidth_kbps")
    p.add_argument("--rtt-ms", type=at_least_float(0.0), default=100.0)
    p.add_argument("--reset-rate", type=_rate, default=0.01, help="share of requests reset (0-1)")
    p.add_argument("--batch-size", type=at_least(1), default=2000, help="1 to 10000 (upload.batch_size)")
    p.add_argument("--connections", type=at_least(1), default=3, help="1 to 16 (upload.connections)")
    p.add_argument("--seed", type=at_least(0), default=462)
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    add_json(p)
    p.set_defaults(func=run)


def fake_reads(n: int, rng: random.Random) -> list[dict]:
    """Reads shaped like a patrol shift's: 7-character plates, a second
    candidate, GPS drifting along a route, seconds between passes."""
    alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    t = dt.datetime(2026, 11, 27, 6, 0, 0)
    lat, lon = 37.7249, -122.1561
    rows = []
    for _ in range(n):
        plate = "".join(rng.choice(alphabet) for _ in range(7))
        alt = plate[:-1] + rng.choice(alphabet)
        conf = round(rng.uniform(0.55, 0.99), 3)
        t += dt.timedelta(milliseconds=rng.randint(300, 6000))
        lat += rng.uniform(-2e-4, 2e-4)
        lon += rng.uniform(-2e-4, 2e-4)
        rows.append({
            "uid": uuid.UUID(int=rng.getrandbits(128), version=4).hex, "plate": plate,
            "confidence": conf,
            "candidates": [{"text": plate, "confidence": conf},
                           {"text": alt, "confidence": round(conf / 3, 3)}],
            "char_confidence": [], "state": "CA", "seen_at": t,
            "board_id": f"esp32-{rng.randint(1, 2)}", "camera": rng.choice(["front", "rear"]),
            "latitude": round(lat, 6), "longitude": round(lon, 6),
            "crop_sha256": f"{rng.getrandbits(256):064x}",
            "context_sha256": f"{rng.getrandbits(256):064x}",
            "box": [rng.randint(0, 1500), rng.randint(0, 900), 120, 40],
            "frames": rng.randint(1, 5), "upload_state": "pending", "created_at": t,
        })
    return rows


def _wait_for_drain(Read, thread: threading.Thread, uploader) -> None:
    """Until the car holds no pending read; a dead uploader or a backlog that stops shrinking
    ends the bench with the reason instead of waiting forever."""
    pending = Read.select().where(Read.upload_state == "pending")
    left, moved = pending.count(), time.monotonic()
    while left:
        time.sleep(0.1)
        if not thread.is_alive():
            raise UploadBenchError(f"the uploader stopped with {left} reads pending")
        now_left = pending.count()
        if now_left != left:
            left, moved = now_left, time.monotonic()
        elif time.monotonic() - moved > STALL_S:
            raise UploadBenchError(
                f"no read delivered for {STALL_S} s, {left} pending (last error: "
                f"{uploader.snapshot().get('last_error') or 'none'}); check the link options")


def _start_server(folder: Path) -> tuple[subprocess.Popen, int]:
    cmd = [sys.executable, "-m", "tools.cli.main", "regional", "serve", "--dir", str(folder),
           "--port", "0", "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    line = proc.stdout.readline()
    if not line:
        proc.wait(10)
        raise UploadBenchError(f"the regional server did not start (exit {proc.returncode}); "
                               f"run `alpr regional serve --dir {folder}` to see why")
    port = int(json.loads(line)["url"].rsplit(":", 1)[1])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, port


def run(args) -> int:
    from gateway.config import Config
    from gateway.datadir import DataDir
    from gateway.store.db import open_database
    from gateway.store.models import Read, database
    from gateway.upload.uploader import Uploader
    from tools.regional import pki
    from tools.regional.linksim import LinkSim
    from tools.regional.provision import install_car

    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="alpr-bench-upload-"))
    server_dir = tmp / "regional"
    pki.init_ca(server_dir / "pki", ["127.0.0.1"])
    proc, port = _start_server(server_dir)
    link = LinkSim(port, args.bandwidth_kbps * 1000, args.rtt_ms / 1000, args.reset_rate,
                   seed=args.seed).start()
    try:
        data = DataDir(tmp / "car").ensure()
        install_car(pki.issue_car(server_dir / "pki", "bench-car"), data, link.url,
                    batch_size=args.batch_size, connections=args.connections,
                    retry_base_s=0.2, retry_max_s=2.0, timeout_s=30.0)
        config = Config.load(data.config_file)
        open_database(data.database)
        rows = fake_reads(args.reads, rng)
        with database.atomic():
            for i in range(0, len(rows), 5000):
                Read.insert_many(rows[i : i + 5000]).execute()
        car_uids = {r["uid"] for r in rows}
        del rows

        uploader = Uploader(config, data.root, send_images=False)  # the read backlog only
        stop = threading.Event()
        started = time.monotonic()
        thread = threading.Thread(target=uploader.run, args=(stop,), daemon=True)
        thread.start()
        _wait_for_drain(Read, thread, uploader)
        seconds = time.monotonic() - started
        stop.set()
        thread.join(40)
    finally:
        link.stop()
        proc.terminate()
        proc.wait(10)

    con = sqlite3.connect(server_dir / "regional.db")
    server_uids = [u for (u,) in con.execute("SELECT uid FROM regional_read")]
    redelivered = sum(
        int(detail.rsplit("duplicates=", 1)[1])
        for (detail,) in con.execute(
            "SELECT detail FROM regional_access WHERE action='upload' AND outcome='ok'")
    )
    con.close()
    unique = set(server_uids)
    stats = link.stats
    # With no cap there is no link time to compare the drain against.
    link_seconds = stats["bytes_up"] * 8 / (args.bandwidth_kbps * 1000) if args.bandwidth_kbps else 0.0
    result = {
        "reads_sent": args.reads,
        "reads_received_unique": len(unique & car_uids),
        "duplicates": len(server_uids) - len(unique),
        "lost": len(car_uids - unique),
        "redelivered_absorbed": redelivered,
        "bytes_per_read": round(stats["bytes_up"] / args.reads, 1),
        "bytes_up": stats["bytes_up"],
        "bytes_down": stats["bytes_down"],
        "seconds": round(seconds, 2),
        "link_seconds": round(link_seconds, 2),
        "ratio": round(seconds / link_seconds, 3) if link_seconds else None,
        "target_ratio": 1.2,
        "connections": stats["connections"],
        "resets": stats["resets"],
        "upload_failures_retried": uploader.snapshot()["failures"],
        "link": {"bandwidth_kbps": args.bandwidth_kbps, "rtt_ms": args.rtt_ms,
                 "reset_rate_per_request": args.reset_rate},
        "batch_size": args.batch_size,
        "parallel_connections": args.connections,
        "cpu_count": os.cpu_count(),
    }
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    else:
        result["folder"] = str(tmp)
    emit(result, args.json)
    return 0
