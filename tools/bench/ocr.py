"""`alpr bench ocr --json`: time to read one plate crop, on one thread.

Times `OcrBackend.read()` (preprocessing, the TFLite model and the numpy
beam-search decoding) on seeded synthetic plate crops of mixed sizes,
after a warm-up, and reports the median and 90th percentile, plus the
model's invoke alone.
"""

from __future__ import annotations

import platform
import time

import numpy as np

from tools.cli import common, ocr_options


def register(subparsers) -> None:
    p = subparsers.add_parser("ocr", help="plate OCR time per plate (one thread)")
    p.add_argument("--plates", type=common.at_least(1), default=200, help="distinct synthetic crops timed")
    ocr_options.add(p)
    p.add_argument("--threads", type=common.at_least(1), default=1, help="interpreter threads (default 1)")
    p.add_argument("--seed", type=common.at_least(0), default=462, help="the synthetic crops (default 462)")
    common.add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from models.synth.camera import ocr_sample

    backend = ocr_options.create(args, args.threads)
    rng = np.random.default_rng(args.seed)
    crops = [ocr_sample(rng)[0] for _ in range(args.plates)]
    for crop in crops[:20]:
        backend.read(crop)
    read_ms, model_ms = [], []
    for crop in crops:
        t0 = time.perf_counter()
        backend.read(crop)
        t1 = time.perf_counter()
        backend.probabilities(crop) if hasattr(backend, "probabilities") else None
        t2 = time.perf_counter()
        read_ms.append((t1 - t0) * 1000)
        model_ms.append((t2 - t1) * 1000)
    out = {
        "plates": len(crops),
        "threads": args.threads,
        "distant_below_px": getattr(backend, "distant_below", 0),
        "median_ms": round(float(np.median(read_ms)), 3),
        "p90_ms": round(float(np.percentile(read_ms, 90)), 3),
        "model_median_ms": round(float(np.median(model_ms)), 3),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
    }
    common.emit(out, args.json, "\n".join(f"{k}: {v}" for k, v in out.items()))
    return 0
