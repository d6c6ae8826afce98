"""Train the plate detector and export it as TFLite.

    # the full training (about 50 minutes on a 2-core machine):
    .venv/bin/python -m models.detector.train --datasets /work/shared/datasets \\
        --steps 3000 --out models/detector/detector.tflite
    # the short run the test suite does (synthetic scenes only, under a minute):
    .venv/bin/python -m models.detector.train --short --out /tmp/detector.tflite

Weights are checkpointed every `--checkpoint-every` steps next to `--out`
(`*.weights.h5`); `--resume` continues from that file.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from pathlib import Path

import numpy as np

from models.detector import data
from models.detector.geometry import CHANNELS, INPUT_H, INPUT_W

logger = logging.getLogger("models.detector.train")


def detector_loss(y_true, y_pred):
    import tensorflow as tf

    heat_t, pos = y_true[..., 0], y_true[..., 13]
    cmask = y_true[..., 14]
    p = tf.clip_by_value(y_pred[..., 0], 1e-4, 1 - 1e-4)
    n = tf.maximum(tf.reduce_sum(pos), 1.0)
    pos_loss = -tf.math.log(p) * tf.square(1 - p) * pos
    neg_loss = -tf.math.log(1 - p) * tf.square(p) * tf.pow(1 - heat_t, 4.0) * (1 - pos)
    focal = (tf.reduce_sum(pos_loss) + tf.reduce_sum(neg_loss)) / n
    l1 = tf.abs(y_pred[..., 1:CHANNELS] - y_true[..., 1:CHANNELS])
    size = tf.reduce_sum(tf.reduce_sum(l1[..., 0:2], -1) * pos) / n
    off = tf.reduce_sum(tf.reduce_sum(l1[..., 2:4], -1) * pos) / n
    corner = tf.reduce_sum(tf.reduce_sum(l1[..., 4:12], -1) * cmask) / tf.maximum(tf.reduce_sum(cmask), 1.0)
    return focal + size + off + 2.0 * corner


class Batches:
    """Endless batches mixing real scenes with a refreshed pool of synthetic ones."""

    def __init__(self, rng, real, pool_size, batch, crop, real_fraction):
        self.rng, self.real, self.batch, self.crop = rng, real, batch, crop
        self.real_fraction = real_fraction if real else 0.0
        self.pool = [data.synthetic(rng) for _ in range(pool_size)]
        self.calls = 0

    def __call__(self):
        xs, ys = [], []
        for _ in range(self.batch):
            if self.rng.random() < self.real_fraction:
                s = self.real[int(self.rng.integers(0, len(self.real)))]
            else:
                s = self.pool[int(self.rng.integers(0, len(self.pool)))]
            x, y = data.crop_sample(self.rng, s, self.crop)
            xs.append(x)
            ys.append(y)
        # Fresh scenes keep the pool from being memorised; one every few batches keeps
        # rendering from costing more than the training step itself.
        self.calls += 1
        if self.calls % 3 == 0:
            self.pool[int(self.rng.integers(0, len(self.pool)))] = data.synthetic(self.rng)
        return np.stack(xs).astype(np.float32), np.stack(ys)


def export_tflite(model, out: Path, quantize: str, width: float, rng=None) -> None:
    """Write the model with a fixed 1 x INPUT_H x INPUT_W x 3 input as TFLite."""
    import keras
    import tensorflow as tf

    from models.detector.model import build

    fixed_in = keras.Input((INPUT_H, INPUT_W, 3), batch_size=1, name="image")
    net = build(width)
    net.set_weights(model.get_weights())
    fixed = keras.Model(fixed_in, net(fixed_in))
    spec = tf.TensorSpec((1, INPUT_H, INPUT_W, 3), tf.float32)
    fn = tf.function(lambda x: fixed(x, training=False)).get_concrete_function(spec)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn], fixed)
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        rng = rng or np.random.default_rng(0)

        def representative():
            for _ in range(32):
                s = data.synthetic(rng)
                img = np.zeros((INPUT_H, INPUT_W, 3), np.float32)
                img[: s.image.shape[0], : s.image.shape[1]] = s.image
                yield [img[None]]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(converter.convert())
    logger.info("wrote %s (%s, %d bytes)", out, quantize, out.stat().st_size)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", type=Path, help="folder with scenes/ and openalpr-benchmarks/ (real scenes)")
    ap.add_argument("--out", type=Path, default=Path("models/detector/detector.tflite"))
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=224)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--width", type=float, default=1.0, help="channel multiplier")
    ap.add_argument("--pool", type=int, default=300, help="synthetic scenes kept in memory")
    ap.add_argument("--real-fraction", type=float, default=0.5)
    ap.add_argument("--quantize", choices=["float32", "float16", "int8"], default="float16")
    ap.add_argument("--checkpoint-every", type=int, default=250)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--short", action="store_true", help="tiny synthetic-only run for the tests")
    ap.add_argument("--export-only", action="store_true", help="export the checkpoint next to --out")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.short:
        args.steps, args.batch, args.crop, args.pool, args.width = 30, 4, 128, 6, 0.5
        args.datasets, args.checkpoint_every = None, 0

    import keras

    from models.detector.model import build

    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    if args.export_only:
        model = build(args.width)
        model.load_weights(args.out.with_suffix(".weights.h5"))
        export_tflite(model, args.out, args.quantize, args.width, rng)
        return 0
    real = data.load_real(args.datasets, held_out=False) if args.datasets else []
    batches = Batches(rng, real, args.pool, args.batch, args.crop, args.real_fraction)
    model = build(args.width)
    ckpt = args.out.with_suffix(".weights.h5")
    start = 0
    if args.resume and ckpt.exists():
        model.load_weights(ckpt)
        state = ckpt.with_suffix(".step")
        start = int(state.read_text()) if state.exists() else 0
        logger.info("resumed from %s at step %d", ckpt, start)
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
    export_tflite(model, args.out, args.quantize, args.width, rng)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
