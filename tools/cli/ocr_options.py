"""The OCR model options every command that reads plates takes, and the backend they make.

The OCR is two files (models/ocr/ocr.tflite, and ocr_distant.tflite that also reads
narrow cuts); a command may replace either, or read with the first alone.
"""

from __future__ import annotations

from tools.cli import common


def add(p, model_flag: str = "--model") -> None:
    p.add_argument(model_flag, dest="ocr_model", metavar="FILE",
                   help="a .tflite OCR model (default: the shipped one; given alone, it reads every crop)")
    p.add_argument("--ocr-distant-model", metavar="FILE",
                   help="the OCR file that also reads narrow cuts (default: the shipped one with the shipped OCR)")
    p.add_argument("--distant-below", type=common.at_least(0), metavar="PX",
                   help="cuts narrower than this are read by both OCR files, averaged "
                        "(default 100, as in the gateway); 0 = the first file alone")


def create(args, threads: int = 1, backend: str = "tflite"):
    from gateway.recognition import ocr

    options = {"threads": threads}
    if args.ocr_model:
        options["model_path"] = args.ocr_model
    if args.ocr_distant_model:
        options["distant_model_path"] = args.ocr_distant_model
    if args.distant_below is not None:
        options["distant_below"] = args.distant_below
    return ocr.create(backend, **options)
