"""`alpr recognize --json` and `alpr eval scenes --json` on generated scenes, with the shipped models."""

import json
import subprocess
import sys

import cv2
import numpy as np

from gateway.recognition.fusion import edit_distance
from models.synth.scenes import approach, write_scene_set
from models.synth.sim_frames import standard_text


def alpr(*args):
    return subprocess.run([sys.executable, "-m", "tools.cli.main", *args], capture_output=True, text=True,
                          timeout=300)


def test_recognize_prints_one_json_object_per_image(tmp_path):
    rng = np.random.default_rng(21)
    frames, text, _ = approach(rng, standard_text(rng, 0), frames=1, start_px=120, end_px=120)
    good = tmp_path / "car.jpg"
    cv2.imwrite(str(good), frames[0])
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(empty), np.full((480, 640, 3), 90, np.uint8))
    proc = alpr("recognize", "--json", str(good), str(empty))
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["file"] for o in lines] == [str(good), str(empty)]
    assert set(lines[0]) == {"file", "ms", "plates"} and lines[0]["ms"] > 0
    plate = lines[0]["plates"][0]
    assert set(plate) == {"text", "confidence", "box", "candidates"}
    assert edit_distance(plate["text"], text) <= 2 and 0 < plate["confidence"] <= 1
    assert len(plate["box"]) == 4
    assert plate["candidates"][0] == {"text": plate["text"], "confidence": plate["confidence"]}
    assert lines[1]["plates"] == []


def test_recognize_reports_an_unreadable_file_and_goes_on(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    ok = tmp_path / "ok.png"
    cv2.imwrite(str(ok), np.full((480, 640, 3), 90, np.uint8))
    proc = alpr("recognize", "--json", str(bad), str(ok))
    assert proc.returncode == 1
    assert "cannot read" in proc.stderr and str(bad) in proc.stderr
    assert [json.loads(line)["file"] for line in proc.stdout.splitlines()] == [str(ok)]


def test_eval_scenes_on_a_generated_folder(tmp_path):
    write_scene_set(tmp_path / "set", 4, seed=3)
    proc = alpr("eval", "scenes", str(tmp_path / "set"), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["images"] == 4 and result["plates"] >= 4
    for key in ("recall", "precision", "exact_read"):
        assert 0.0 <= result[key] <= 1.0
    assert result["ms_median"] > 0 and result["ms_p95"] >= result["ms_median"]
    missing = alpr("eval", "scenes", str(tmp_path), "--json")
    assert missing.returncode == 1 and "labels.tsv" in missing.stderr


def test_bench_recognize_reports_times_and_the_views_it_ran(tmp_path):
    write_scene_set(tmp_path / "set", 3, seed=4)
    runs = {}
    for extra in ((), ("--no-closer-look", "--no-fine-pass")):
        proc = alpr("bench", "recognize", str(tmp_path / "set"), "--workers", "1", "--json", *extra)
        assert proc.returncode == 0, proc.stderr
        runs[extra] = json.loads(proc.stdout)
    full, bare = runs.values()
    assert full["frames"] == 3 and full["fine_pass"] and full["closer_look"]
    assert not bare["fine_pass"] and not bare["closer_look"]
    for r in (full, bare):
        assert 0 < r["ms_median"] <= r["ms_p95"] and r["fps_all_cores"] > 0


def test_bench_pipeline_accounts_for_every_frame_and_times_the_reads():
    proc = alpr("bench", "pipeline", "--boards", "1", "--seconds", "7", "--trigger-ms", "2000", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["frames"] >= 3 and result["reads"] >= 1
    # the boards stop and the stage finishes before counting: nothing is in flight or lost
    assert result["frames_unaccounted"] == 0
    assert result["frames"] == (result["frames_read"] + result["frames_skipped"] + result["frames_unreadable"]
                                + result["frames_failed"])
    assert 0 < result["read_latency_median_ms"] <= result["read_latency_p95_ms"]


def test_eval_scenes_names_an_unreadable_image_and_scores_the_rest(tmp_path):
    folder = tmp_path / "set"
    write_scene_set(folder, 2, seed=5)
    (folder / "bad.jpg").write_bytes(b"not an image")
    with (folder / "labels.tsv").open("a") as fh:
        fh.write("bad.jpg\t10\t10\t60\t20\tABC123\n")
    proc = alpr("eval", "scenes", str(folder), "--json")
    assert proc.returncode == 1
    assert "bad.jpg" in proc.stderr and "Traceback" not in proc.stderr
    result = json.loads(proc.stdout)
    assert result["unreadable"] == ["bad.jpg"] and result["images"] == 2 and result["plates"] >= 2


def test_eval_scenes_refuses_labels_it_cannot_score(tmp_path):
    write_scene_set(tmp_path / "set", 1, seed=6)
    labels = tmp_path / "set" / "labels.tsv"
    first = labels.read_text().splitlines()[0].split("\t")[0]
    for content, message in (("", "lists no plates"), (f"{first}\tnan\tinf\t-5\t0\tABC\n", "finite")):
        labels.write_text(content)
        proc = alpr("eval", "scenes", str(tmp_path / "set"), "--json")
        assert proc.returncode == 1 and message in proc.stderr and "Traceback" not in proc.stderr
    # a byte-order mark (a spreadsheet's export) is not part of the first file's name
    labels.write_text(f"{first}\t10\t10\t60\t20\tABC123\n", encoding="utf-8-sig")
    assert alpr("eval", "scenes", str(tmp_path / "set"), "--json", "--detect-only").returncode == 0


def test_bench_recognize_names_what_it_could_not_time(tmp_path):
    write_scene_set(tmp_path / "set", 1, seed=7)
    (tmp_path / "set" / "bad.jpg").write_bytes(b"")
    proc = alpr("bench", "recognize", str(tmp_path / "set"), "--workers", "1", "--json", "--no-fine-pass")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["frames"] == 1 and result["skipped_unreadable"] == ["bad.jpg"] and "bad.jpg" in proc.stderr
    missing = alpr("bench", "recognize", str(tmp_path / "nothere"), "--json")
    assert missing.returncode == 1 and "is not a folder" in missing.stderr and "Traceback" not in missing.stderr


def test_counts_and_thread_options_refuse_values_out_of_range(tmp_path):
    for args in (("eval", "scenes", str(tmp_path), "--limit", "-1"),
                 ("recognize", "--threads", "0", "x.jpg"),
                 ("bench", "recognize", "--workers", "two")):
        proc = alpr(*args)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, args
        assert "--limit" in proc.stderr or "--threads" in proc.stderr or "--workers" in proc.stderr


def test_ocr_refuses_thread_and_width_options_out_of_range(capsys):
    """`alpr ocr --threads 0` was reported as the OCR model file failing to load."""
    import pytest

    from tools.cli.main import main

    for args, message in ((["--threads", "0"], "--threads: 0 is too small: 1 or more"),
                          (["--distant-below", "-5"], "--distant-below: -5 is too small: 0 or more")):
        with pytest.raises(SystemExit):
            main(["ocr", *args, "x.jpg"])
        assert message in capsys.readouterr().err


def test_eval_scenes_says_when_the_split_leaves_no_image(tmp_path):
    """A --split no listed file falls in was reported as 'none of the 0 images ... could be read'."""
    import pytest

    from models.detector.data import is_held_out
    from tools.eval.scenes import SceneDataError, evaluate

    name = next(f"f{k}.jpg" for k in range(100) if not is_held_out("x/set", f"f{k}.jpg"))
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "labels.tsv").write_text(f"{name}\t10\t10\t60\t20\tABC123\n")
    with pytest.raises(SceneDataError, match="none of the 1 images listed .* is in the holdout split"):
        evaluate(tmp_path / "set", None, split="holdout")


def test_recognize_names_each_bad_file_with_its_reason_and_keeps_the_good_ones(tmp_path):
    """A JPEG cut short was read as a half-grey picture (0 plates, and a libjpeg warning naming no
    file); it, an empty file, a folder and a missing path are each named with what is wrong, and
    the good files' plates are still printed."""
    rng = np.random.default_rng(21)
    frames, text, _ = approach(rng, standard_text(rng, 0), frames=1, start_px=120, end_px=120)
    good = tmp_path / "car.jpg"
    cv2.imwrite(str(good), frames[0])
    data = good.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[:len(data) // 2])
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "folder.jpg").mkdir()
    paths = [str(p) for p in (cut, tmp_path / "empty.jpg", good, tmp_path / "folder.jpg", tmp_path / "gone.jpg")]
    proc = alpr("recognize", "--json", "--no-closer-look", *paths)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["file"] for o in lines] == [str(good)]
    assert edit_distance(lines[0]["plates"][0]["text"], text) <= 2
    err = proc.stderr
    assert f"cannot read {cut}: the JPEG is cut short" in err
    assert f"cannot read {tmp_path / 'empty.jpg'}: the file is empty" in err
    assert f"cannot read {tmp_path / 'folder.jpg'}: it is a folder" in err
    assert f"cannot read {tmp_path / 'gone.jpg'}: no such file" in err


def test_eval_scenes_leaves_out_a_jpeg_cut_short(tmp_path):
    """A labelled JPEG cut short was scored as a scene whose lower part is grey (plates missed)."""
    from tools.eval.scenes import evaluate

    folder = tmp_path / "set"
    write_scene_set(folder, 2, seed=5)
    name = sorted(p.name for p in folder.glob("*.jpg"))[0]
    data = (folder / name).read_bytes()
    (folder / name).write_bytes(data[:len(data) // 3])

    class NoPlates:
        def read_frame(self, image):
            return []

    result = evaluate(folder, NoPlates())
    assert result["unreadable"] == [name] and result["images"] == 1


def test_eval_scenes_warns_of_a_labelled_box_outside_its_image(tmp_path, caplog):
    """A box past the image's edge (a labelling slip, or labels of another image size) can never
    be found, and silently lowered recall; it is still counted, and now named with its file."""
    from tools.eval.scenes import evaluate

    folder = tmp_path / "set"
    write_scene_set(folder, 1, seed=5, width=640, height=360)
    name = read_labels_names(folder)[0]
    with (folder / "labels.tsv").open("a") as fh:
        fh.write(f"{name}\t5000\t4000\t60\t20\tABC123\n")

    class NoPlates:
        def read_frame(self, image):
            return []

    with caplog.at_level("WARNING"):
        result = evaluate(folder, NoPlates())
    assert result["plates"] >= 2 and result["recall"] == 0.0
    said = [r.getMessage() for r in caplog.records if "outside" in r.getMessage()]
    assert len(said) == 1 and name in said[0] and "5000,4000,60,20" in said[0] and "640x360" in said[0]


def read_labels_names(folder):
    from models.detector.data import read_labels

    return sorted(read_labels(folder))
