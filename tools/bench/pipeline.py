"""`alpr bench pipeline --json`: simulated boards through the link to stored reads.

Starts a throw-away data folder, N simulated boards (the real firmware under
MicroPython, sending the sample frames of tools/sim/frames in bursts) on
simulated serial lines, the gateway's link and recognition stages and the
store, runs for `--seconds`, and reports how many frames and reads came
through and `read_latency_p95_ms`: from the arrival of the last frame of a
burst to its read being stored (hotlist matching included). At the end the
boards stop and the stage finishes what it holds before anything is counted,
so every frame received is accounted for: read, skipped (behind), unreadable
or failed; `frames_unaccounted` (0 in a sound run) is what is left.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import numpy as np

from tools.cli import common

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser("pipeline", help="boards -> link -> recognition -> stored reads, timed")
    p.add_argument("--boards", type=common.at_least(1), default=2, help="simulated boards (default 2)")
    p.add_argument("--seconds", type=common.at_least_float(1.0), default=30.0, help="how long to run (default 30)")
    # 0 is the firmware's "never trigger": a run without frames gives no figure
    p.add_argument("--trigger-ms", type=common.at_least(100), default=3000,
                   help="simulated trigger period per board (at least 100)")
    common.add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from gateway.config import Config
    from gateway.datadir import DataDir
    from gateway.service import Gateway
    from gateway.store.models import Read
    from tools.sim.runner import Simulation

    with tempfile.TemporaryDirectory(prefix="alpr-bench-") as tmp:
        datadir = DataDir(Path(tmp) / "data").ensure()
        config = Config()
        gateway = Gateway(config, datadir)
        sim = None
        try:
            gateway.init_store()
            sim = Simulation(datadir, boards=args.boards, trigger_ms=args.trigger_ms).start()
            gateway.extra_ports += sim.gateway_ports
            gateway.start_link()
            gateway.start_recognition()
            if gateway.recognition is None:
                from gateway.errors import AlprError

                raise AlprError("the recognition stage is not installed")
            deadline = time.monotonic() + args.seconds
            while time.monotonic() < deadline and not gateway.stop_event.is_set():
                time.sleep(0.2)
            # the boards stop sending and the stage finishes what it holds, so that every frame
            # received is accounted for (read, skipped, unreadable or failed), none in flight
            sim.stop()
            stage = gateway.recognition
            settled = _settle(stage)
            stats = dict(stage.stats)
            latencies = np.array(stage.latencies_ms or [np.nan])
            reads = Read.select().count()
            plates = sorted({r.plate for r in Read.select(Read.plate)})
            for r in Read.select().order_by(Read.seen_at):
                logger.debug("read %s %s frames=%d conf=%.2f box=%s", r.board_id, r.plate, r.frames,
                             r.confidence, r.box)
        finally:
            gateway.stop()
            if sim is not None:
                sim.stop()
    result = {
        "boards": args.boards,
        "seconds": args.seconds,
        "frames": stats.get("frames", 0),
        "frames_read": stats.get("processed", 0),
        "frames_skipped": stats.get("skipped", 0),
        "frames_unreadable": stats.get("bad_frames", 0),
        "frames_failed": stats.get("errors", 0),
        "frames_unaccounted": (stats.get("frames", 0) - stats.get("processed", 0) - stats.get("skipped", 0)
                               - stats.get("bad_frames", 0) - stats.get("errors", 0)) if settled else None,
        "reads": reads,
        "distinct_plates": len(plates),
        "read_latency_median_ms": round(float(np.median(latencies)), 1),
        "read_latency_p95_ms": round(float(np.percentile(latencies, 95)), 1),
        "link_queue_full": (gateway.link.counters.get("queue_full", 0) if gateway.link else 0),
    }
    human = "\n".join(f"{k}: {v}" for k, v in result.items())
    common.emit(result, args.json, human)
    return 0


def _settle(stage, timeout_s: float = 10.0) -> bool:
    """Wait until the stage has taken every frame the link queued and finished the one it is reading."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        s = stage.stats
        done = s["processed"] + s["skipped"] + s["bad_frames"] + s["errors"]
        if stage.in_queue.qsize() == 0 and done >= s["frames"]:
            return True
        time.sleep(0.05)
    logger.warning("the recognition stage had not finished its frames %.0f s after the boards stopped", timeout_s)
    return False
