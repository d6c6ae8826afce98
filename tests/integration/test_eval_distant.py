"""`alpr eval distant`: a folder of distant plates made from near ones, that `alpr eval scenes` scores."""

import json
import subprocess
import sys

import cv2
import numpy as np

from models.detector.data import read_labels
from models.synth.scenes import write_scene_set


def alpr(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "tools.cli.main", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_plates_are_pasted_at_the_width_asked_for_and_scored(tmp_path):
    src, out = tmp_path / "near", tmp_path / "far"
    write_scene_set(src, 3, seed=5, width=1280, height=720)
    proc = alpr("eval", "distant", str(src), "--out", str(out), "--width", "60", "--frame", "960x540",
                "--split", "all", "--json")
    assert proc.returncode == 0, proc.stderr
    made = json.loads(proc.stdout)
    assert made["frames"] == 3 and made["frame"] == "960x540" and made["skipped"] == []
    near, far = read_labels(src), read_labels(out)
    assert len(far) == 3
    for name, [(box, text)] in sorted(far.items()):
        frame = cv2.imread(str(out / name))
        assert frame.shape == (540, 960, 3)
        x, y, w, h = (int(v) for v in box)
        assert abs(w - 60) <= 1 and 0 <= x and x + w <= 960 and 0 <= y and y + h <= 540
        # the first plate with text of the photo it came from, its pixels scaled into place
        source = name.split("_", 1)[1]
        (sbox, stext) = next((b, t) for b, t in near[source] if t)
        assert text == stext
        sx, sy, sw, sh = (int(round(v)) for v in sbox)
        plate = cv2.resize(cv2.imread(str(src / source))[sy:sy + sh, sx:sx + sw], (w, h), interpolation=cv2.INTER_AREA)
        assert np.abs(frame[y:y + h, x:x + w].astype(int) - plate.astype(int)).mean() < 20
    scored = alpr("eval", "scenes", str(out), "--detect-only", "--json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["plates"] == 3


def test_bad_requests_say_what_is_wrong(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = alpr("eval", "distant", str(empty), "--out", str(tmp_path / "o"), "--width", "60")
    assert missing.returncode == 1 and "labels.tsv is missing" in missing.stderr
    write_scene_set(tmp_path / "near", 1, seed=6)
    near = str(tmp_path / "near")
    frame = alpr("eval", "distant", near, "--out", str(tmp_path / "o"), "--width", "60", "--frame", "big")
    assert frame.returncode == 1 and "WIDTHxHEIGHT" in frame.stderr
    wide = alpr("eval", "distant", near, "--out", str(tmp_path / "o"), "--width", "900", "--frame", "640x480")
    assert wide.returncode == 1 and "half the frame" in wide.stderr
    nothing = alpr("eval", "distant", near, "--out", str(tmp_path / "o"), "--width", "60",
                   "--backgrounds", str(empty), "--split", "all")
    assert nothing.returncode == 1 and "no JPEG" in nothing.stderr


def _crops_folder(folder, count):
    """A us-crops style folder of synthetic plates, all in the OCR's hold-out split."""
    from models.ocr.data import in_train_split
    from models.synth.plates import render_plate

    folder.mkdir()
    rng = np.random.default_rng(9)
    held_out, trained, k = {}, [], 0
    while len(held_out) < count or not trained:
        name = f"zz{k}.jpg"
        k += 1
        image, text = render_plate(rng)[:2]
        cv2.imwrite(str(folder / name), image)
        if in_train_split(name):
            trained.append(f"{name},zz,{text}")  # the OCR trained on these: never used
        elif len(held_out) < count:
            held_out[name] = text
    rows = ["file,state,plate", *trained, *(f"{n},zz,{t}" for n, t in held_out.items())]
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    return held_out


def test_plates_of_a_crops_folder_go_over_the_photos_plates(tmp_path):
    src, out, crops = tmp_path / "near", tmp_path / "far", tmp_path / "crops"
    write_scene_set(src, 4, seed=7, width=1280, height=720)
    texts = _crops_folder(crops, 5)
    proc = alpr("eval", "distant", str(src), "--out", str(out), "--width", "50", "--frame", "1280x720",
                "--split", "all", "--plates", str(crops), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["frames"] == 5  # one per crop, the photos taken in turn
    for name, [(box, text)] in sorted(read_labels(out).items()):
        crop_name = name.split("_")[1] + ".jpg"
        assert text == texts[crop_name]
        x, y, w, h = (int(v) for v in box)
        assert abs(w - 50) <= 1
        # the crop's pixels, scaled into the plate's place
        crop = cv2.resize(cv2.imread(str(crops / crop_name)), (w, h), interpolation=cv2.INTER_AREA)
        frame = cv2.imread(str(out / name))
        assert np.abs(frame[y:y + h, x:x + w].astype(int) - crop.astype(int)).mean() < 25


def test_a_bad_crops_folder_is_named(tmp_path):
    write_scene_set(tmp_path / "near", 1, seed=6)
    (tmp_path / "crops").mkdir()
    proc = alpr("eval", "distant", str(tmp_path / "near"), "--out", str(tmp_path / "o"), "--width", "50",
                "--split", "all", "--plates", str(tmp_path / "crops"))
    assert proc.returncode == 1 and "--plates" in proc.stderr and "labels.csv" in proc.stderr


def test_backgrounds_none_of_which_can_be_read_are_refused_not_waited_on(tmp_path):
    """Every background file unreadable (a folder of .jpg that are not images) looped for ever."""
    write_scene_set(tmp_path / "near", 1, seed=6)
    (tmp_path / "bg").mkdir()
    (tmp_path / "bg" / "a.jpg").write_text("not an image")
    proc = alpr("eval", "distant", str(tmp_path / "near"), "--out", str(tmp_path / "o"), "--width", "50",
                "--split", "all", "--backgrounds", str(tmp_path / "bg"), timeout=60)
    assert proc.returncode == 1 and "--backgrounds" in proc.stderr and "a.jpg" in proc.stderr


def test_a_label_box_outside_its_photo_is_skipped_by_name(tmp_path):
    """A box past the photo's edge (a labelling slip) was an OpenCV traceback; it is skipped and
    named, and the other photos still make their frames."""
    src = tmp_path / "near"
    write_scene_set(src, 2, seed=5, width=640, height=360)
    lines = (src / "labels.tsv").read_text().splitlines()
    first = lines[0].split("\t")
    lines.append("\t".join([first[0], "5000", "4000", "60", "20", "BAD1"]))
    lines[0] = ""  # the photo's only plate is now the one outside it
    (src / "labels.tsv").write_text("\n".join(lines) + "\n")
    proc = alpr("eval", "distant", str(src), "--out", str(tmp_path / "o"), "--width", "40", "--frame", "640x360",
                "--split", "all", "--json")
    assert proc.returncode == 0, proc.stderr
    made = json.loads(proc.stdout)
    assert made["frames"] == 1 and made["skipped"] == [str(src / first[0])]
    assert "outside" in proc.stderr


def test_no_frame_made_is_an_error_not_an_empty_folder(tmp_path):
    """Every photo unreadable made an empty labels.tsv and exit status 0; eval scenes then said
    only that the folder lists no plates."""
    src = tmp_path / "near"
    src.mkdir()
    (src / "a.jpg").write_text("not an image")
    (src / "labels.tsv").write_text("a.jpg\t10\t10\t60\t20\tABC123\n")
    proc = alpr("eval", "distant", str(src), "--out", str(tmp_path / "o"), "--width", "40", "--split", "all",
                "--json", timeout=60)
    assert proc.returncode == 1 and "no frame made" in proc.stderr and "a.jpg" in proc.stderr
    assert not (tmp_path / "o" / "labels.tsv").exists()
