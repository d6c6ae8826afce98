"""Train the plate detector and export it as TFLite.

    # the full training (about 50 minutes on a 2-core machine):
    .venv/bin/python -m models.detector.train --datasets /work/shared/datasets \\
        --steps 2500 --out models/detector/detector.tflite
    # the short run the test suite does (synthetic scenes only, under a minute):
    .venv/bin/python -m models.detector.train --short --out /tmp/detector.tflite

Weights are checkpointed every `--checkpoint-every` steps next to `--out`
(`*.weights.h5`); `--resume` continues from that file.
"""

from __future__ import annotations

import argparse
import logging
import math
import shutil
import time
from pathlib import Path

import cv2
import numpy as np

from models.detector import data
from models.detector.geometry import CHANNELS

logger = logging.getLogger("models.detector.train")


def detector_loss(y_true, y_pred):
    """Focal loss on the plate mask, L1 on the regressions of the cells inside plates."""
    import tensorflow as tf

    mask_t, pos = y_true[..., 0], y_true[..., 13]
    cmask = y_true[..., 14]
    p = tf.clip_by_value(y_pred[..., 0], 1e-4, 1 - 1e-4)
    n = tf.maximum(tf.reduce_sum(pos), 1.0)
    bce = -(mask_t * tf.math.log(p) + (1 - mask_t) * tf.math.log(1 - p))
    focal = tf.reduce_sum(bce * tf.square(tf.abs(mask_t - p))) / n * 10.0
    l1 = tf.abs(y_pred[..., 1:CHANNELS] - y_true[..., 1:CHANNELS])
    size = tf.reduce_sum(tf.reduce_sum(l1[..., 0:2], -1) * pos) / n
    off = tf.reduce_sum(tf.reduce_sum(l1[..., 2:4], -1) * pos) / n
    corner = tf.reduce_sum(tf.reduce_sum(l1[..., 4:12], -1) * cmask) / tf.maximum(tf.reduce_sum(cmask), 1.0)
    return focal + size + 2.0 * off + 2.0 * corner


class Batches:
    """Endless batches mixing real scenes (and pasted US plates) with a refreshed pool of synthetic ones."""

    def __init__(self, rng, real, pool_size, batch, crop, real_fraction, max_zoom=1.7,
                 pasted=(), pasted_fraction=0.0):
        self.rng, self.real, self.batch, self.crop, self.max_zoom = rng, real, batch, crop, max_zoom
        self.real_fraction = real_fraction if real else 0.0
        self.pasted, self.pasted_fraction = list(pasted), pasted_fraction if pasted else 0.0
        self.pool = [data.synthetic(rng) for _ in range(pool_size)]
        self.calls = 0

    def __call__(self):
        xs, ys = [], []
        for _ in range(self.batch):
            draw = self.rng.random()
            if draw < self.pasted_fraction:
                s = self.pasted[int(self.rng.integers(0, len(self.pasted)))]
            elif draw < self.pasted_fraction + self.real_fraction:
                s = self.real[int(self.rng.integers(0, len(self.real)))]
            else:
                s = self.pool[int(self.rng.integers(0, len(self.pool)))]
            x, y = data.crop_sample(self.rng, s, self.crop, self.max_zoom)
            xs.append(x)
            ys.append(y)
        # Fresh scenes keep the pool from being memorised; one every few batches keeps
        # rendering from costing more than the training step itself.
        self.calls += 1
        if self.calls % 3 == 0:
            self.pool[int(self.rng.integers(0, len(self.pool)))] = data.synthetic(self.rng)
        return np.stack(xs).astype(np.float32), np.stack(ys)


def export_tflite(model, out: Path, quantize: str, width: float, rng=None,
                  size: tuple[int, int] | None = None) -> None:
    """Write the model as TFLite: a 1 x H x W x 3 input of any size (the gateway sizes it per
    pass: the letterboxed frame, then twice as fine for small plates), or fixed to `size`."""
    import keras
    import tensorflow as tf

    from models.detector.model import build

    shape = (size[1], size[0], 3) if size else (None, None, 3)
    fixed_in = keras.Input(shape, batch_size=1, name="image")
    net = build(width)
    net.set_weights(model.get_weights())
    fixed = keras.Model(fixed_in, net(fixed_in))
    # Through a SavedModel, so that the weights are frozen into constants (converting a
    # traced function directly leaves resource variables the runtime cannot read).
    import tempfile

    saved = Path(tempfile.mkdtemp(prefix="detector-export-"))
    fixed.export(str(saved), format="tf_saved_model", verbose=False)
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        rng = rng or np.random.default_rng(0)

        def representative():
            # synthetic scenes at the scales the gateway's passes see (letterbox and up to
            # twice it), each on a canvas of the fixed size or just large enough for it
            for _ in range(64):
                image = data.synthetic(rng).image
                h, w = image.shape[:2]
                cw, ch = size or (32 * math.ceil(w / 32), 32 * math.ceil(h / 32))
                if w > cw or h > ch:
                    f = min(cw / w, ch / h)
                    image = cv2.resize(image, (max(1, int(w * f)), max(1, int(h * f))))
                img = np.zeros((1, ch, cw, 3), np.float32)
                img[0, : image.shape[0], : image.shape[1]] = image
                yield [img]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        out.write_bytes(converter.convert())
    finally:
        shutil.rmtree(saved, ignore_errors=True)
    logger.info("wrote %s (%s, %d bytes)", out, quantize, out.stat().st_size)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", type=Path, help="folder with scenes/ and openalpr-benchmarks/ (real scenes)")
    ap.add_argument("--out", type=Path, default=Path("models/detector/detector.tflite"))
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=224)
    ap.add_argument("--max-zoom", type=float, default=1.7,
                    help="crops show plates at 0.55 to this many times the letterbox scale (the shipped "
                         "phases: 1.7; 2.4 covers the gateway's fine pass, tried in the fourth session)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--width", type=float, default=1.0, help="channel multiplier")
    ap.add_argument("--pool", type=int, default=300, help="synthetic scenes kept in memory")
    ap.add_argument("--real-fraction", type=float, default=0.5)
    ap.add_argument("--pasted-us", metavar="CROPS",
                    help="also train on the training split of this crops folder (openalpr-benchmarks/us-crops) "
                         "pasted small into dash-camera frames (needs --datasets; models/detector/pasted.py)")
    ap.add_argument("--pasted-copies", type=int, default=3, help="pasted frames per crop (default 3)")
    ap.add_argument("--pasted-fraction", type=float, default=0.25,
                    help="share of training crops drawn from the pasted frames (default 0.25, as the "
                         "thirteenth session's phases; --real-fraction of the rest real, the remainder synthetic)")
    ap.add_argument("--quantize", choices=["float32", "float16", "int8"], default="float16")
    ap.add_argument("--checkpoint-every", type=int, default=250)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--init-weights", metavar="FILE",
                    help="start from these weights (a .weights.h5 checkpoint or a shipped .tflite, e.g. "
                         "models/detector/detector.tflite: a fresh checkout has only that); --resume wins "
                         "where its checkpoint exists")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--short", action="store_true", help="tiny synthetic-only run for the tests")
    ap.add_argument("--export-only", action="store_true",
                    help="only export: --init-weights, or else the checkpoint next to --out")
    ap.add_argument("--export-size", metavar="WxH",
                    help="fix the exported model's input size (multiples of 32); by default any size, "
                         "which the gateway's two passes need")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.short:
        args.steps, args.batch, args.crop, args.pool, args.width = 30, 4, 128, 6, 0.5
        args.datasets, args.checkpoint_every = None, 0

    size = tuple(int(v) for v in args.export_size.lower().split("x")) if args.export_size else None
    if size is not None and (len(size) != 2 or size[0] % 32 or size[1] % 32):
        raise SystemExit("--export-size must be WxH, both multiples of 32")

    import keras

    from models.detector.model import build

    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    if args.export_only:
        from models.tflite_weights import load_weights

        model = build(args.width)
        load_weights(model, args.init_weights or args.out.with_suffix(".weights.h5"))
        export_tflite(model, args.out, args.quantize, args.width, rng, size)
        return 0
    if args.pasted_us:  # checked before the minutes of loading
        if not args.datasets:
            raise SystemExit("--pasted-us needs --datasets (the photos and dash-camera frames to paste into)")
        if not 0.0 <= args.pasted_fraction <= 1.0 - args.real_fraction:
            raise SystemExit(f"--pasted-fraction must be 0-{1.0 - args.real_fraction:g}: with --real-fraction "
                             f"{args.real_fraction:g} the two shares cannot exceed 1")
    real = data.load_real(args.datasets, held_out=False) if args.datasets else []
    pasted = []
    if args.pasted_us:
        from models.detector.pasted import pasted_scenes
        from models.ocr.data import real_split

        pasted = pasted_scenes(real_split(args.pasted_us)["train"], args.datasets, args.pasted_copies, args.seed)
    batches = Batches(rng, real, args.pool, args.batch, args.crop, args.real_fraction, args.max_zoom,
                      pasted, args.pasted_fraction)
    model = build(args.width)
    ckpt = args.out.with_suffix(".weights.h5")
    start = 0
    if args.resume and ckpt.exists():
        model.load_weights(ckpt)
        state = ckpt.with_suffix(".step")
        start = int(state.read_text()) if state.exists() else 0
        logger.info("resumed from %s at step %d", ckpt, start)
    elif args.init_weights:
        from models.tflite_weights import load_weights

        load_weights(model, args.init_weights)
        logger.info("starting from %s", args.init_weights)
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, args.steps, warmup_target=None, alpha=0.02)
    optimizer = keras.optimizers.Adam(schedule)
    model.compile(optimizer=optimizer, loss=detector_loss)
    optimizer.iterations.assign(start)
    t0, seen = time.monotonic(), 0.0
    for step in range(start, args.steps):
        x, y = batches()
        loss = float(model.train_on_batch(x, y))
        seen = 0.98 * seen + 0.02 * loss if step > start else loss
        if not math.isfinite(loss):
            raise SystemExit(f"loss diverged at step {step}; lower --lr")
        if step % 20 == 0 or step == args.steps - 1:
            rate = (step + 1 - start) / (time.monotonic() - t0)
            logger.info("step %d/%d loss %.3f (avg %.3f) %.2f steps/s", step, args.steps, loss, seen, rate)
        if args.checkpoint_every and (step + 1) % args.checkpoint_every == 0:
            model.save_weights(ckpt)
            ckpt.with_suffix(".step").write_text(str(step + 1))
    if args.checkpoint_every:
        model.save_weights(ckpt)
        ckpt.with_suffix(".step").write_text(str(args.steps))
    export_tflite(model, args.out, args.quantize, args.width, rng, size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
