"""`alpr ocr [--json] IMAGE...`: read the plate in each photo (one plate, tight or with a margin).

With --json, one object per image and line:
{"file": ..., "text": ..., "confidence": ..., "candidates": [{"text": ..., "confidence": ...}, ...]}
A file that cannot be read is reported on stderr and skipped; the exit
status is then 1.
"""

from __future__ import annotations

import logging

from tools.cli import common, ocr_options

logger = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser("ocr", help="read the plate text in plate photos")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="plate photos (JPEG, PNG, ...)")
    ocr_options.add(p)
    p.add_argument("--backend", default="tflite", help="OCR backend name (default tflite)")
    p.add_argument("--threads", type=common.at_least(1), default=1, help="interpreter threads (default 1)")
    common.add_json(p)
    p.set_defaults(func=run)


def run(args) -> int:
    backend = ocr_options.create(args, args.threads, args.backend)
    files = common.ImageFiles(args.images)
    for path, image in files:
        result = backend.read(image)
        obj = {
            "file": path,
            "text": result.text,
            "confidence": round(float(result.confidence), 4),
            "candidates": [{"text": c.text, "confidence": round(float(c.confidence), 4)} for c in result.candidates],
        }
        others = ", ".join(f"{c.text} {c.confidence:.2f}" for c in result.candidates[1:5])
        common.emit(obj, args.json, f"{path}: {result.text or '-'} ({result.confidence:.2f})  others: {others}")
    return 1 if files.failed else 0
