"""`alpr eval ocr` with no image it can read names the files and fails cleanly."""

from __future__ import annotations

from tools.cli.main import main


def _labels(folder, names):
    folder.mkdir(exist_ok=True)
    (folder / "labels.csv").write_text("file,state,plate\n" + "".join(f"{n},CA,7ABC123\n" for n in names))


def test_every_labelled_image_missing_names_them_before_the_model_loads(tmp_path, capsys):
    _labels(tmp_path / "crops", ["a.jpg", "b.jpg"])
    assert main(["eval", "ocr", str(tmp_path / "crops"), "--json"]) == 1
    err = capsys.readouterr().err
    assert "none of the 2 images labels.csv names" in err and "a.jpg, b.jpg" in err


def test_every_image_unreadable_names_them(tmp_path, capsys, monkeypatch):
    _labels(tmp_path / "crops", ["a.jpg"])
    (tmp_path / "crops" / "a.jpg").write_bytes(b"not a jpeg")
    monkeypatch.setattr("tools.cli.ocr_options.create", lambda *_a, **_k: object())
    assert main(["eval", "ocr", str(tmp_path / "crops")]) == 1
    assert "no image in" in capsys.readouterr().err
