"""OCR training samples cut by the shipped detector from synthetic and real scenes."""

import zlib

import cv2
import numpy as np

from gateway.recognition.ocr_input import INPUT_H, INPUT_W
from models.ocr.data import trainable
from models.ocr.scene_crops import real_scene_crops, synthetic_scene_crops
from models.synth.scenes import render_scene


def test_synthetic_scene_plates_are_cut_as_the_gateway_cuts_them():
    x, y = synthetic_scene_crops(6, seed=1, workers=1)
    assert x.shape == (6, INPUT_H, INPUT_W) and x.dtype == np.uint8
    assert len(y) == 6 and all(trainable(t) for t in y)
    assert x.std() > 10  # images, not blanks
    x2, y2 = synthetic_scene_crops(6, seed=1, workers=1)
    assert y2 == y and np.array_equal(x2, x)


def _name(held_out: bool, start: int) -> str:
    i = start
    while (zlib.crc32(f"scene{i}.jpg".encode()) % 5 == 0) != held_out:
        i += 1
    return f"scene{i}.jpg"


def test_real_scene_plates_come_from_the_training_split_only(tmp_path):
    folder = tmp_path / "openalpr-benchmarks" / "br-scenes"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(4)
    names = [_name(False, 0), _name(False, 100), _name(True, 200)]
    lines = []
    for name in names:
        plates = []
        while len(plates) != 1:
            frame, plates = render_scene(rng, 1280, 720, n_plates=1, min_plate_px=120, night=False)
        cv2.imwrite(str(folder / name), frame)
        lines += [f"{name}\t" + "\t".join(str(v) for v in p.box) + f"\t{p.text}" for p in plates]
    (folder / "labels.tsv").write_text("\n".join(lines) + "\n")
    x, y = real_scene_crops(tmp_path, copies=3, seed=0, sets=("openalpr-benchmarks/br-scenes",))
    texts = [line.split("\t")[-1] for line in lines]
    # each training plate: the detector's cut (when it finds it) and three jittered re-cuts
    assert 6 <= len(y) <= 8
    assert set(y) <= set(texts[:2])  # never the held-out scene's plate
    assert x.shape == (len(y), INPUT_H, INPUT_W)
