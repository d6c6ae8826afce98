"""Join trained OCR networks into one .tflite that averages their per-step probabilities.

    .venv/bin/python -m models.ocr.ensemble --out models/ocr/ocr.tflite \\
        --member build/ocr5/ocr.weights.h5:1 --member build/ocrw2/ocr.weights.h5:2

Each member is `FILE:WIDTH[:NETWORK]`: a Keras checkpoint (`.weights.h5`) or a
shipped `.tflite` (read back by models.tflite_weights), and the channel
multiplier it was trained with; from a `.tflite` that already joins several
networks, NETWORK names the one to take (`plate_ocr_0`, `plate_ocr_1`, ...),
so a fresh checkout can join a new network to the shipped ones:

    .venv/bin/python -m models.ocr.ensemble --out build/ens/ocr.tflite \\
        --member models/ocr/ocr.tflite:2:plate_ocr_0 --member models/ocr/ocr.tflite:2:plate_ocr_1 \\
        --member build/ocrw13/ocr.weights.h5:2

All members see the same 32 x 128 input and emit the same
32 CTC steps, so their softmax outputs can be averaged step by step; networks
of different sizes, trained on different draws of the synthetic plates, make
different mistakes, and the average is right more often than either (see
the model card). The result has the interface of a single model: the
gateway needs no change, and it stays one file and one invoke.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

logger = logging.getLogger("models.ocr.ensemble")


def parse_member(text: str) -> tuple[str, float, str | None]:
    """`FILE[:WIDTH[:NETWORK]]` -> (file, width, network or None); the width defaults to 1."""
    parts = text.split(":")
    try:
        if not parts[0] or len(parts) > 3:
            raise ValueError
        return parts[0], float(parts[1]) if len(parts) > 1 else 1.0, parts[2] if len(parts) == 3 else None
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected FILE:WIDTH[:NETWORK], e.g. build/ocr5/ocr.weights.h5:1 "
                                         "or models/ocr/ocr.tflite:2:plate_ocr_1") from None


def build_ensemble(members: list[tuple[str, float, str | None]]):
    import keras
    from keras import layers

    from gateway.recognition.ocr_input import INPUT_H, INPUT_W
    from models.ocr.model import build
    from models.tflite_weights import load_weights

    nets = []
    for i, (path, width, network) in enumerate(members):
        if not Path(path).is_file():
            raise SystemExit(f"member {path} does not exist")
        net = build(width, name=f"plate_ocr_{i}")
        load_weights(net, path, scope=network)  # inference only: batch norm need not be calibrated
        nets.append(net)
    inp = keras.Input((INPUT_H, INPUT_W, 1), batch_size=1, name="image")
    probs = [layers.Softmax()(net(inp, training=False)) for net in nets]
    out = layers.Average(name="probs")(probs) if len(probs) > 1 else probs[0]
    return keras.Model(inp, out, name="plate_ocr_ensemble")


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m models.ocr.ensemble", description=__doc__.split("\n\n")[0])
    p.add_argument("--member", action="append", type=parse_member, required=True, metavar="FILE:WIDTH[:NETWORK]",
                   help="a trained network and its width, and the network's name inside a joined .tflite "
                        "(repeat for each member)")
    p.add_argument("--out", required=True, help="where to write the joined .tflite")
    p.add_argument("--no-quantize", action="store_true", help="export float32 weights")
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from models.ocr.train import export_tflite

    model = build_ensemble(args.member)
    data = export_tflite(model, quantize=not args.no_quantize)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    report = {"out": str(out), "bytes": len(data),
              "members": [f"{m}:{w:g}" + (f":{n}" if n else "") for m, w, n in args.member]}
    logger.info("wrote %s", json.dumps(report))
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
