"""`alpr bench recognize [DIR] --json`: time per frame of the whole recognition, and throughput.

Times `Recognizer.read_frame()` (detection, straightening, OCR, ranking) on
every image of DIR (JPEG/PNG; decoding not included) after a warm-up, with
one interpreter thread: median and 95th percentile per frame. Then frames
per second with all cores: one process per core, each with its own
single-thread models, over the same frames. Without DIR, seeded synthetic
1280x720 scenes are used.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import platform
import time
from pathlib import Path

import numpy as np

from gateway.errors import AlprError
from tools.cli import common
from tools.cli.commands.recognize import add_model_options, recognizer

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


def register(subparsers) -> None:
    p = subparsers.add_parser("recognize", help="recognition time per frame and frames per second")
    p.add_argument("dir", nargs="?", metavar="DIR", help="folder of frames (default: synthetic scenes)")
    p.add_argument("--limit", type=common.at_least(1), default=100, help="at most N frames (default 100)")
    p.add_argument("--workers", type=common.at_least(0), default=0,
                   help="processes for the throughput run (default: cores)")
    add_model_options(p, threads=False)
    common.add_json(p)
    p.set_defaults(func=run)


class BenchFramesError(AlprError):
    """The folder of frames to time cannot be used."""


def load_frames(folder: str | None, limit: int) -> tuple[list[np.ndarray], list[str]]:
    """The frames to time, and the image files of `folder` that could not be decoded (skipped,
    and named on stderr: a figure over fewer frames than the folder holds must say so)."""
    if folder is None:
        from models.synth.scenes import render_scene

        rng = np.random.default_rng(462)
        return [render_scene(rng, 1280, 720, n_plates=2)[0] for _ in range(min(limit, 30))], []
    if not Path(folder).is_dir():
        raise BenchFramesError(f"{folder} is not a folder: give a folder of JPEG/PNG frames")
    paths = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
    files = common.ImageFiles([str(p) for p in paths])
    frames = [image for _, image in files]
    skipped = [Path(p).name for p in files.failed]
    if not frames:
        raise BenchFramesError(f"no readable images in {folder} (JPEG, PNG or BMP)")
    return frames, skipped


def _frame_size(frames: list[np.ndarray]) -> str:
    sizes = sorted({f"{f.shape[1]}x{f.shape[0]}" for f in frames})
    return sizes[0] if len(sizes) == 1 else "mixed: " + ", ".join(sizes)


_worker = None


def _init(args):
    global _worker
    _worker = recognizer(args)


def _one(frame):
    return len(_worker.read_frame(frame))


def run(args) -> int:
    args.threads = 1  # the figure asked for is per frame on one thread; all cores come from processes
    frames, skipped = load_frames(args.dir, args.limit)
    rec = recognizer(args)
    for frame in frames[:3]:
        rec.read_frame(frame)
    times, plates = [], 0
    for frame in frames:
        t0 = time.perf_counter()
        plates += len(rec.read_frame(frame))
        times.append((time.perf_counter() - t0) * 1000.0)
    workers = args.workers or os.cpu_count() or 1
    work = frames * max(1, 200 // len(frames))
    with mp.get_context("spawn").Pool(workers, initializer=_init, initargs=(args,)) as pool:
        pool.map(_one, frames[:workers])  # warm-up
        t0 = time.perf_counter()
        pool.map(_one, work, chunksize=4)
        fps = len(work) / (time.perf_counter() - t0)
    t = np.array(times)
    result = {
        "frames": len(frames),
        "skipped_unreadable": skipped,
        "frame_size": _frame_size(frames),
        "plates_found": plates,
        "ms_median": round(float(np.median(t)), 1),
        "ms_p95": round(float(np.percentile(t, 95)), 1),
        "fps_all_cores": round(fps, 1),
        "workers": workers,
        "fine_pass": not args.no_fine_pass,
        "closer_look": not args.no_closer_look,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.processor() or platform.system()}",
    }
    human = "\n".join(f"{k}: {v}" for k, v in result.items())
    common.emit(result, args.json, human)
    return 0
