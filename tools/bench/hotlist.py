"""`alpr bench hotlist`: import, match and store speed against a large made-up list.

Generates a CLEW .tbl file of N random plates plus officer wildcard entries,
imports it into a fresh database (in a temporary folder inside the data
folder, so the disk is the car's), then times matching reads of 5 OCR
candidates (exact, confused, one missing or extra character, wildcard and
misses) and storing reads durably with their images.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from gateway.errors import AlprError
from tools.cli import common

ALNUM = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
SWAPS = {"0": "O", "O": "0", "1": "I", "I": "1", "8": "B", "B": "8", "5": "S", "S": "5",
         "2": "Z", "Z": "2", "6": "G", "G": "6"}


def register(subparsers) -> None:
    p = subparsers.add_parser("hotlist", help="hotlist import, match and read-storing speed")
    # Each figure needs at least one of what it measures: reads are drawn from the list's plates,
    # and the medians and rates divide by the counts.
    p.add_argument("--entries", type=common.at_least(1), default=1_000_000)
    p.add_argument("--patterns", type=common.at_least(0), default=50, help="officer wildcard entries")
    p.add_argument("--reads", type=common.at_least(1), default=2000, help="reads matched for the timing")
    p.add_argument("--stored", type=common.at_least(1), default=500,
                   help="reads stored for reads_per_second")
    p.add_argument("--writers", type=common.at_least(1), default=4,
                   help="threads storing reads at once (boards feeding recognition)")
    p.add_argument("--seed", type=int, default=462)
    common.add_json(p)
    p.set_defaults(func=run)


def _plate(rng: random.Random) -> str:
    return "".join(rng.choices(ALNUM, k=rng.choice((6, 7, 7, 7))))


def _variant(rng: random.Random, plate: str) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return plate
    if kind == 1:
        return "".join(SWAPS.get(ch, ch) if rng.random() < 0.3 else ch for ch in plate)
    i = rng.randrange(len(plate))
    if kind == 2:
        return plate[:i] + plate[i + 1:]
    return plate[:i] + rng.choice(ALNUM) + plate[i:]


def run(args) -> int:
    from gateway.datadir import DataDir
    from gateway.hotlist import match
    from gateway.hotlist.importer import import_file
    from gateway.hotlist.wanted import add_wanted
    from gateway.store.db import open_database
    from gateway.store.images import ImageStore
    from gateway.store.reads import NewRead, save_read

    rng = random.Random(args.seed)
    base = common.datadir(args).root
    with tempfile.TemporaryDirectory(dir=base, prefix="bench-hotlist-") as tmp:
        data = DataDir(Path(tmp) / "data").ensure()
        db = open_database(data.database)
        plates = [_plate(rng) for _ in range(args.entries)]
        tbl = Path(tmp) / "svs.tbl"
        with tbl.open("w", encoding="ascii") as fh:
            fh.write("DATE11/28/2026 06:00\n")
            fh.writelines(f"{p:<8}CA01{20260101 + i % 28:08d}\n" for i, p in enumerate(plates))
            fh.write(f"TOTAL RECORD {len(plates):07d}\n")

        started, cpu = time.perf_counter(), time.process_time()
        result = import_file(tbl, "clew", "svs", username="bench")
        import_seconds = time.perf_counter() - started
        import_cpu = time.process_time() - cpu

        expires = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=30)
        for _ in range(args.patterns):
            pat = list(_plate(rng))
            for _ in range(2):
                pat[rng.randrange(len(pat))] = "?"
            if rng.random() < 0.3:
                pat = pat[:4] + ["*"]
            add_wanted("".join(pat), reason="bench", case_number="B-1", expires_at=expires,
                       username="bench")

        started = time.perf_counter()
        matcher = match.refresh()
        index_seconds = time.perf_counter() - started

        reads = []
        for _ in range(args.reads):
            truth = rng.choice(plates) if rng.random() < 0.5 else _plate(rng)
            reads.append([_variant(rng, truth) for _ in range(5)])
        timings, cpu_timings = [], []
        hits = 0
        for cands in reads:
            t0, c0 = time.perf_counter(), time.thread_time()
            found = matcher.match(cands)
            timings.append((time.perf_counter() - t0) * 1000)
            cpu_timings.append((time.thread_time() - c0) * 1000)
            hits += bool(found)
        timings.sort()
        cpu_timings.sort()

        images = ImageStore(data.images)
        crop = rng.randbytes(4_000)
        context = rng.randbytes(60_000)
        news = [NewRead(plate=_plate(rng), confidence=0.9, seen_at=dt.datetime(2026, 11, 28),
                        candidates=[{"text": _plate(rng), "confidence": 0.5}],
                        # Distinct images per read, as in the car: every one is really written.
                        crop_jpeg=crop + i.to_bytes(4, "big"),
                        context_jpeg=context + i.to_bytes(4, "big"))
                for i in range(args.stored)]

        failures: list[BaseException] = []

        def store(part: list) -> None:
            try:
                for new in part:
                    save_read(new, images)
            except BaseException as exc:  # noqa: BLE001 - reported after the join
                failures.append(exc)

        parts = [news[w::args.writers] for w in range(args.writers)]
        # Not charged to the reads: writing back the generated list file and the import.
        os.sync()
        started, cpu = time.perf_counter(), time.process_time()
        sys_started = os.times().system
        threads = [threading.Thread(target=store, args=(part,)) for part in parts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        store_seconds = time.perf_counter() - started
        if failures:
            raise AlprError(f"storing reads failed: {failures[0]}") from failures[0]
        store_cpu = time.process_time() - cpu
        store_sys = os.times().system - sys_started
        from gateway.store.models import Alert

        alerts_raised = Alert.select().count()
        db.close()
        match.reset()

    def p99(values: list[float]) -> float:
        return round(values[min(len(values) - 1, int(len(values) * 0.99))], 3)

    out = {
        "entries": result.entries,
        "patterns": args.patterns,
        "import_seconds": round(import_seconds, 2),
        "import_cpu_seconds": round(import_cpu, 2),
        "index_seconds": round(index_seconds, 2),
        "match_median_ms": round(statistics.median(timings), 3),
        "match_p99_ms": p99(timings),
        "match_max_ms": round(timings[-1], 3),
        # CPU time of the matching thread: what the figures are without other load.
        "match_cpu_median_ms": round(statistics.median(cpu_timings), 3),
        "match_cpu_p99_ms": p99(cpu_timings),
        "reads_with_hits": hits,
        "reads_matched": len(reads),
        "reads_per_second": round(args.stored / store_seconds, 1),
        # CPU per stored read; the rest of the time is spent waiting for the disk's flushes.
        "store_cpu_ms_per_read": round(store_cpu / args.stored * 1000, 3),
        "store_kernel_ms_per_read": round(store_sys / args.stored * 1000, 3),
        "writers": args.writers,
        "alerts_raised": alerts_raised,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    human = "\n".join(f"{k:18} {v}" for k, v in out.items())
    common.emit(out, args.json, human)
    return 0
