"""Train the plate OCR and export it to TFLite.

    .venv/bin/python -m models.ocr.train --out models/ocr/ocr.tflite \\
        --real-crops ../shared/datasets/openalpr-benchmarks/us-crops

    .venv/bin/python -m models.ocr.train --short --out /tmp/ocr.tflite   # the test-suite run

The full run draws 24 000 synthetic plates (seed 0, cached in build/ocr/cache),
adds the fine-tuning ~60 % of the real crops (split by a hash of the file
name, see models.ocr.data.in_train_split) each 20 times augmented, trains
the CNN+CTC of models.ocr.model for `--steps` Adam steps with a cosine
learning-rate decay, and exports a TFLite model with dynamic-range int8
weights. It checkpoints every `--steps-per-epoch` steps into build/ocr/backup
and resumes from there when run again with the same arguments. The held-out
real crops are scored after every epoch for the log only: nothing is chosen
on them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

import numpy as np

from gateway.recognition.ocr_decode import best_path
from gateway.recognition.ocr_input import ALPHABET, INPUT_H, INPUT_W, encode
from models.ocr import data
from models.synth.camera import VIEW_WIDTHS

logger = logging.getLogger("models.ocr.train")
BUILD = Path("build/ocr")


def _width_range(text: str) -> tuple[int, int]:
    try:
        low, high = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX in pixels, e.g. 40,120; got {text!r}") from None
    if not 8 <= low < high:
        raise argparse.ArgumentTypeError(f"need 8 <= MIN < MAX, got {low},{high}")
    return low, high


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m models.ocr.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="where to write the .tflite model")
    p.add_argument("--real-crops", metavar="DIR", help="a us-crops folder; its ~60 %% train split is mixed in")
    p.add_argument("--short", action="store_true", help="a tiny run that proves the pipeline (tests)")
    p.add_argument("--synthetic", type=int, default=24000, help="synthetic plates to draw")
    p.add_argument("--real-copies", type=int, default=20, help="augmented copies of each real crop")
    p.add_argument("--real-widths", type=_width_range, metavar="MIN,MAX",
                   help="plate widths in pixels the real crops' copies are shrunk to, log-uniform "
                        "(default 50 to each crop's own width)")
    p.add_argument("--synthetic-widths", type=_width_range, metavar="MIN,MAX",
                   help="plate widths in pixels of the synthetic plates, log-uniform "
                        f"(default {VIEW_WIDTHS[0]},{VIEW_WIDTHS[1]})")
    p.add_argument("--scene-crops", type=int, default=0, metavar="N",
                   help="N plates of synthetic scenes as the shipped detector cuts them (models.ocr.scene_crops)")
    p.add_argument("--real-scenes", metavar="DIR",
                   help="a datasets folder: the training-split plates with text of its real scene sets, "
                        "as the shipped detector cuts them")
    p.add_argument("--real-scene-copies", type=int, default=20, help="jittered re-cuts of each real scene plate")
    p.add_argument("--pasted-copies", type=int, default=0, metavar="N",
                   help="N detector cuts of each --real-crops training crop put small on a real vehicle in a "
                        "frame (models.ocr.pasted_crops; needs --datasets for the photos)")
    p.add_argument("--pasted-cut", choices=("detector", "final"), default="detector",
                   help="--pasted-copies cut by the detector's box (default), or the cut the gateway's whole "
                        "reading chose (closer looks, narrowed boxes; about three times slower to make)")
    p.add_argument("--datasets", metavar="DIR", help="the datasets folder, for --pasted-copies' photos and frames")
    p.add_argument("--steps", type=int, default=2750, help="training steps in all")
    p.add_argument("--steps-per-epoch", type=int, default=250)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=float, default=1.0,
                   help="channel multiplier of the network (models.ocr.model.build); the shipped file's width "
                        "is in the model card")
    p.add_argument("--threads", type=int, default=2, help="TensorFlow threads")
    p.add_argument("--work", default=str(BUILD), help="cache and checkpoint folder")
    p.add_argument("--no-quantize", action="store_true", help="export float32 weights")
    p.add_argument("--init-weights", metavar="FILE",
                   help="start from these weights: a Keras .weights.h5 checkpoint, or a shipped .tflite model "
                        "(a longer fine-tuning run; a fresh checkout has only the .tflite)")
    p.add_argument("--init-scope", metavar="NAME",
                   help="with a joined .tflite (models.ocr.ensemble) as --init-weights: the member to start from, "
                        "e.g. plate_ocr_0 or plate_ocr_1 (both width 2 in ocr.tflite: add --width 2; "
                        "in ocr_distant.tflite plate_ocr_0 is width 1)")
    p.add_argument("--export-only", action="store_true", help="only export --init-weights to --out")
    args = p.parse_args(argv)
    if args.export_only and not args.init_weights:
        p.error("--export-only needs --init-weights (the weights to export)")
    if args.short:
        args.synthetic, args.real_copies, args.steps, args.steps_per_epoch, args.batch = 256, 1, 6, 3, 32
        args.scene_crops, args.real_scene_copies = min(args.scene_crops, 16), 1
    return args


def _labels_to_array(labels: list[str]) -> np.ndarray:
    y = np.zeros((len(labels), data.MAX_LABEL), np.int32)
    for i, text in enumerate(labels):
        ids = encode(text[: data.MAX_LABEL])
        y[i, : len(ids)] = ids
    return y


def _cached(path: Path, make, what: str) -> tuple[np.ndarray, list[str]]:
    """(images, labels) from an .npz cache, made by `make()` and saved first if missing."""
    if not path.is_file():
        t0 = time.time()
        x, y = make()
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, images=x, labels=np.array(y))
        logger.info("%s in %.0f s", what, time.time() - t0)
    with np.load(path) as z:
        return z["images"], [str(t) for t in z["labels"]]


def _synthetic_cached(n: int, seed: int, work: Path, short: bool, widths: tuple[int, int] | None = None):
    """n synthetic samples, drawn in blocks of 2000 that are cached (so a killed run keeps them)."""
    if short:
        return data.synthetic(n, seed, workers=1, widths=widths)
    block = 2000
    sized = f"-w{widths[0]}-{widths[1]}" if widths else ""
    images, labels = [], []
    for start in range(0, n, block):
        count = min(block, n - start)
        x, y = _cached(work / "cache" / f"synth-s{seed}-{start}-{count}{sized}.npz",
                       lambda start=start, count=count: data.synthetic_range(start, count, seed, 2, widths),
                       f"drew synthetic plates {start}-{start + count}")
        images.append(x)
        labels.extend(y)
    return np.concatenate(images), labels


def _scene_crops_cached(n: int, seed: int, work: Path, short: bool):
    """n detector-cut synthetic scene plates, cached in work/cache (they take ~0.1 s each to make)."""
    from models.ocr.scene_crops import synthetic_scene_crops

    if short:
        return synthetic_scene_crops(n, seed, workers=1)
    return _cached(work / "cache" / f"scene-crops-s{seed}-{n}.npz",
                   lambda: synthetic_scene_crops(n, seed, workers=2), f"cut {n} synthetic scene plates")


def _pasted_cached(rows, args, work: Path):
    """The pasted US plates' detector cuts (about 60 ms each on one core), cached in work/cache."""
    from models.ocr.pasted_crops import pasted_crops

    widths = args.real_widths or (40, 120)
    cut = args.pasted_cut
    if args.short:
        return pasted_crops(rows, args.datasets, 1, args.seed, widths, workers=1, cut=cut)
    tag = "" if cut == "detector" else f"-{cut}"
    return _cached(work / "cache" / f"pasted-s{args.seed}-{len(rows)}x{args.pasted_copies}-w{widths[0]}-{widths[1]}{tag}.npz",
                   lambda: pasted_crops(rows, args.datasets, args.pasted_copies, args.seed, widths, cut=cut),
                   f"pasted {len(rows)} crops {args.pasted_copies} times each and cut those the detector found")


def build_training_set(args):
    work = Path(args.work)
    images, labels = _synthetic_cached(args.synthetic, args.seed, work, args.short, args.synthetic_widths)
    holdout = None
    if args.real_crops:
        split = data.real_split(args.real_crops)
        rows = split["train"][:16] if args.short else split["train"]
        rx, ry = data.real_augmented(rows, args.real_copies, args.seed, args.real_widths)
        logger.info("real crops: %d train files -> %d samples; %d held out", len(rows), len(ry), len(split["holdout"]))
        images = np.concatenate([images, rx])
        labels = labels + ry
        holdout = data.load_real(split["holdout"][:16] if args.short else split["holdout"])
    if args.scene_crops:
        sx, sy = _scene_crops_cached(args.scene_crops, args.seed, work, args.short)
        images, labels = np.concatenate([images, sx]), labels + sy
    if args.pasted_copies and args.real_crops and args.datasets:
        rows = data.real_split(args.real_crops)["train"]
        px, py = _pasted_cached(rows[:8] if args.short else rows, args, work)
        images, labels = np.concatenate([images, px]), labels + py
    elif args.pasted_copies:
        raise SystemExit("--pasted-copies needs --real-crops (the plates) and --datasets (the photos)")
    if args.real_scenes:
        from models.ocr.scene_crops import real_scene_crops

        rx, ry = real_scene_crops(args.real_scenes, args.real_scene_copies, args.seed)
        images, labels = np.concatenate([images, rx]), labels + ry
    keep = [i for i, t in enumerate(labels) if data.trainable(t)]
    return images[keep], _labels_to_array([labels[i] for i in keep]), holdout


def exact_match(model, images: np.ndarray, labels: list[str]) -> float:
    if not labels:
        return float("nan")
    logits = model.predict(images[..., None].astype("float32") / 255.0, batch_size=256, verbose=0)
    return float(np.mean([best_path(lg, ALPHABET) == t for lg, t in zip(logits, labels, strict=True)]))


def train(args) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    from models.ocr.model import build
    from models.tflite_weights import load_weights

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(args.seed)
    if args.export_only:
        # Only the held-out crops, for the report: drawing the training set is not needed.
        net = build(args.width)
        load_weights(net, args.init_weights, None, args.init_scope)
        holdout = data.load_real(data.real_split(args.real_crops)["holdout"]) if args.real_crops else None
        return _export(net, args, {"train_seconds": 0.0, "samples": 0, "steps": 0}, holdout)
    t_start = time.time()
    x, y, holdout = build_training_set(args)
    logger.info("training set: %d samples", len(x))

    def to_float(img, lab):
        img = tf.cast(img, tf.float32)[..., None] / 255.0
        # contrast jitter and occasional inversion (light-on-dark plates)
        img = tf.clip_by_value((img - 0.5) * tf.random.uniform([], 0.7, 1.2) + 0.5 + tf.random.uniform([], -0.1, 0.1), 0, 1)
        img = tf.cond(tf.random.uniform([]) < 0.05, lambda: 1.0 - img, lambda: img)
        return img, lab

    ds = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(min(len(x), 100_000), seed=args.seed, reshuffle_each_iteration=True)
        .repeat()
        .map(to_float, num_parallel_calls=1)
        .batch(args.batch, drop_remainder=True)
        .prefetch(2)
    )

    def ctc(y_true, y_pred):
        batch = keras.ops.shape(y_pred)[0]
        label_len = keras.ops.sum(keras.ops.cast(keras.ops.not_equal(y_true, 0), "int32"), axis=1)
        logit_len = keras.ops.full((batch,), keras.ops.shape(y_pred)[1], "int32")
        return keras.ops.ctc_loss(y_true, y_pred, label_len, logit_len, mask_index=0)

    net = build(args.width)
    if args.init_weights:
        load_weights(net, args.init_weights, x[:2048, ..., None].astype("float32") / 255.0, args.init_scope)
        logger.info("starting from %s", args.init_weights)
    aug = keras.Sequential(
        [keras.layers.RandomTranslation(0.04, 0.03, fill_mode="nearest"), keras.layers.RandomZoom((-0.06, 0.06), fill_mode="nearest")],
        name="augment",
    )
    inp = keras.Input((INPUT_H, INPUT_W, 1))
    trainer = keras.Model(inp, net(aug(inp)))
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, args.steps, alpha=0.02, warmup_target=None)
    trainer.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=5.0), loss=ctc)

    epochs = max(1, args.steps // args.steps_per_epoch)
    callbacks = []
    if not args.short:
        callbacks.append(keras.callbacks.BackupAndRestore(str(Path(args.work) / "backup")))

    class Score(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if not args.short:  # so a run cut short can still be exported (--export-only)
                net.save_weights(str(Path(args.work) / "ocr.weights.h5"))
            if holdout is not None and not args.short:
                acc = exact_match(net, holdout[0], holdout[1])
                logger.info("epoch %d loss %.3f held-out real exact %.3f", epoch + 1, logs["loss"], acc)

    callbacks.append(Score())
    trainer.fit(ds, epochs=epochs, steps_per_epoch=args.steps_per_epoch, callbacks=callbacks, verbose=2 if not args.short else 0)
    train_s = time.time() - t_start

    if not args.short:
        net.save_weights(str(Path(args.work) / "ocr.weights.h5"))  # for later fine-tuning runs
    return _export(net, args, {"train_seconds": round(train_s, 1), "samples": int(len(x)), "steps": epochs * args.steps_per_epoch}, holdout)


def _export(net, args, facts: dict, holdout) -> dict:
    from models.ocr.model import for_inference

    tflite = export_tflite(for_inference(net), quantize=not args.no_quantize)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(tflite)
    report = {"out": str(out), "bytes": len(tflite), **facts, "quantized": not args.no_quantize}
    if holdout is not None:
        report["holdout_exact_keras"] = exact_match(net, holdout[0], holdout[1])
    logger.info("done: %s", json.dumps(report))
    return report


def export_tflite(infer_model, quantize: bool) -> bytes:
    import tensorflow as tf

    # from_keras_model freezes the weights into the file (a hand-made concrete
    # function would leave them as unbound resource variables)
    converter = tf.lite.TFLiteConverter.from_keras_model(infer_model)
    if quantize:
        # int8 weights, float activations: a quarter of the size, no calibration set
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    report = train(args)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
