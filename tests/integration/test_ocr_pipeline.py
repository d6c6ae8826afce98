"""End to end: the short training run, TFLite export, and reading through the gateway backend and CLI.

The short run (a few hundred synthetic plates, a few steps) proves that
training, export and inference fit together; the shipped model is then
checked for real accuracy on seeded synthetic plates.
"""

import csv
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from gateway.recognition import ocr
from gateway.recognition.ocr_tflite import DEFAULT_MODEL
from models.synth.camera import camera_view
from models.synth.plates import render_plate

ROOT = Path(__file__).resolve().parents[2]
ALPR = [sys.executable, "-m", "tools.cli.main"]


@pytest.fixture(scope="module")
def short_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("ocr") / "short.tflite"
    work = out.parent / "work"
    proc = subprocess.run(
        # with a few plates cut by the detector from synthetic scenes mixed in
        [sys.executable, "-m", "models.ocr.train", "--short", "--out", str(out), "--work", str(work),
         "--scene-crops", "8"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["bytes"] == out.stat().st_size
    return out


@pytest.fixture(scope="module")
def plates(tmp_path_factory):
    """Seeded synthetic crops on disk: (path, label)."""
    folder = tmp_path_factory.mktemp("plates")
    rng = np.random.default_rng(2024)
    rows = []
    for i in range(12):
        plate, label, _ = render_plate(rng, style={"kind": "standard"})
        crop = camera_view(rng, plate, width=int(rng.integers(120, 240)))
        path = folder / f"p{i:02d}.jpg"
        cv2.imwrite(str(path), crop)
        rows.append((path, label))
    with (folder / "labels.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "state", "plate"])
        for path, label in rows:
            w.writerow([path.name, "xx", label])
    return folder, rows


def check_result(result):
    assert len(result.candidates) >= 5
    assert result.candidates[0].text == result.text
    confs = [c.confidence for c in result.candidates]
    assert confs == sorted(confs, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confs)
    assert len(result.char_confidences) == len(result.text)


def test_short_training_model_runs_in_the_gateway_backend(short_model, plates):
    backend = ocr.create("tflite", model_path=short_model)
    for path, _ in plates[1][:4]:
        check_result(backend.read(cv2.imread(str(path))))


def test_training_continues_from_a_tflite_file(short_model, plates, tmp_path):
    """A fresh checkout has only the shipped .tflite: a further stage must start from it.

    As the sixth session's stage did: real crops mixed in, shrunk to distant-plate widths.
    """
    out = tmp_path / "continued.tflite"
    proc = subprocess.run(
        [sys.executable, "-m", "models.ocr.train", "--short", "--init-weights", str(short_model),
         "--out", str(out), "--work", str(tmp_path / "work"),
         "--real-crops", str(plates[0]), "--real-widths", "40,120"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "starting from" in proc.stderr
    assert "real crops:" in proc.stderr
    check_result(ocr.create("tflite", model_path=out).read(cv2.imread(str(plates[1][0][0]))))


def test_networks_join_into_one_file(short_model, plates, tmp_path):
    """models.ocr.ensemble: the joined file reads like its members (here two copies of one)."""
    out = tmp_path / "joined.tflite"
    proc = subprocess.run(
        [sys.executable, "-m", "models.ocr.ensemble", "--member", f"{short_model}:1", "--member", f"{short_model}:1",
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["bytes"] == out.stat().st_size
    single, joined = ocr.create("tflite", model_path=short_model), ocr.create("tflite", model_path=out)
    for path, _ in plates[1][:4]:
        image = cv2.imread(str(path))
        a, b = single.probabilities(image), joined.probabilities(image)
        assert a.shape == b.shape
        assert np.abs(a - b).max() < 0.05  # the same network twice, requantised: the same probabilities



@pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="models/ocr/ocr.tflite not built")
def test_networks_taken_out_of_a_joined_file(plates, tmp_path):
    """FILE:WIDTH:NETWORK takes one network out of a joined file, as a fresh checkout joins a new
    network to the shipped ones: the shipped file's two networks rejoined in the other order read
    as the shipped file does."""
    out = tmp_path / "rejoined.tflite"
    proc = subprocess.run(
        [sys.executable, "-m", "models.ocr.ensemble", "--member", f"{DEFAULT_MODEL}:2:plate_ocr_1",
         "--member", f"{DEFAULT_MODEL}:2:plate_ocr_0", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    shipped = ocr.create("tflite", model_path=DEFAULT_MODEL)
    rejoined = ocr.create("tflite", model_path=out)
    for path, _ in plates[1][:4]:
        image = cv2.imread(str(path))
        assert np.abs(shipped.probabilities(image) - rejoined.probabilities(image)).max() < 0.05


def test_gateway_does_not_load_tensorflow(short_model, plates):
    code = (
        "import sys, cv2; from gateway.recognition import ocr; "
        f"b = ocr.create('tflite', model_path={str(short_model)!r}); "
        f"b.read(cv2.imread({str(plates[1][0][0])!r})); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF loaded'"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="models/ocr/ocr.tflite not built")
def test_shipped_model_reads_synthetic_plates(plates):
    backend = ocr.create("tflite")
    hits = 0
    for path, label in plates[1]:
        result = backend.read(cv2.imread(str(path)))
        check_result(result)
        hits += result.text == label or label in [c.text for c in result.candidates[:5]]
    assert hits >= 9, f"only {hits}/12 seeded synthetic plates read (top 5)"


@pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="models/ocr/ocr.tflite not built")
def test_cli_ocr_json_one_line_per_image(plates, tmp_path):
    bad = tmp_path / "not-an-image.jpg"
    bad.write_bytes(b"nope")
    files = [str(p) for p, _ in plates[1][:3]]
    proc = subprocess.run(ALPR + ["ocr", "--json", *files, str(bad)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "cannot read" in proc.stderr and str(bad) in proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 3
    for line, name in zip(lines, files, strict=True):
        obj = json.loads(line)
        assert list(obj) == ["file", "text", "confidence", "candidates"]
        assert obj["file"] == name
        assert len(obj["candidates"]) >= 5
        assert set(obj["candidates"][0]) == {"text", "confidence"}


@pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="models/ocr/ocr.tflite not built")
def test_cli_eval_and_bench(plates):
    folder, _ = plates
    proc = subprocess.run(ALPR + ["eval", "ocr", str(folder), "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["images"] == 12
    assert 0.0 <= out["exact"] <= out["exact_o_as_0"] <= 1.0
    assert 0.0 <= out["cer"] and out["latency_ms_median"] > 0
    proc = subprocess.run(ALPR + ["bench", "ocr", "--json", "--plates", "5"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    bench = json.loads(proc.stdout)
    assert bench["plates"] == 5 and bench["median_ms"] > 0 and bench["threads"] == 1


def test_cli_eval_refuses_a_folder_without_labels(tmp_path):
    proc = subprocess.run(ALPR + ["eval", "ocr", str(tmp_path), "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "labels.csv" in proc.stderr
