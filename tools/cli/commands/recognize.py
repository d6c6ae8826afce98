"""`alpr recognize [--json] IMAGE...`: find and read every plate in each photo.

With --json, one object per image and line:
{"file": ..., "ms": ..., "plates": [{"text": ..., "confidence": ..., "box": [x, y, w, h],
 "candidates": [{"text": ..., "confidence": ...}, ...]}, ...]}
`ms` is the time to detect and read the plates (after the file was decoded), once the
models are warm: the first image is read once untimed, as the gateway's first frame of a
shift is the only one that pays for loading.
A file that cannot be read is reported on stderr with the reason (missing, empty, a folder,
a JPEG cut short, not an image) and skipped; the exit status is then 1.
"""

from __future__ import annotations

import time

from tools.cli import common, ocr_options


def add_model_options(p, threads: bool = True) -> None:
    p.add_argument("--detector-model", metavar="FILE", help="a .tflite detector (default: the shipped one)")
    ocr_options.add(p, "--ocr-model")
    if threads:
        p.add_argument("--threads", type=common.at_least(1), default=1,
                       help="interpreter threads per model (default 1)")
    p.add_argument("--no-fine-pass", action="store_true",
                   help="the detector's base pass only: faster, but plates under ~50 px are missed")
    p.add_argument("--no-closer-look", action="store_true",
                   help="read each plate from its first box only, without looking again where unsure")


def recognizer(args, read: bool = True):
    from gateway.recognition import detector
    from gateway.recognition.recognizer import Recognizer

    det_opts = {"threads": args.threads, "fine_pass": not args.no_fine_pass}
    if args.detector_model:
        det_opts["model"] = args.detector_model
    return Recognizer(detector.create("tflite", **det_opts),
                      ocr_options.create(args, args.threads) if read else None, closer_look=not args.no_closer_look)


def register(subparsers) -> None:
    p = subparsers.add_parser("recognize", help="find and read the plates in photos of scenes")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="photos (JPEG, PNG, ...)")
    add_model_options(p)
    common.add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    rec = recognizer(args)
    files = common.ImageFiles(args.images)
    warm = False
    for path, image in files:
        if not warm:
            rec.read_frame(image)
            warm = True
        t0 = time.perf_counter()
        plates = rec.read_frame(image)
        ms = (time.perf_counter() - t0) * 1000.0
        obj = {"file": path, "ms": round(ms, 1), "plates": [p.to_json() for p in plates]}
        human = f"{path}: {len(plates)} plate(s), {ms:.0f} ms" + "".join(
            f"\n  {p.text or '-'} ({p.confidence:.2f}) at {','.join(str(v) for v in p.detection.box)}"
            for p in plates)
        common.emit(obj, args.json, human)
    return 1 if files.failed else 0
