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


def test_a_spreadsheet_labels_csv_with_a_byte_order_mark_is_read(tmp_path, capsys):
    """A labels.csv saved by a spreadsheet starts with a byte-order mark; its header was refused
    as not being file,state,plate."""
    _labels(tmp_path / "crops", ["a.jpg"])
    path = tmp_path / "crops" / "labels.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    from models.ocr.data import read_labels

    assert read_labels(tmp_path / "crops") == [(tmp_path / "crops" / "a.jpg", "7ABC123")]


def test_labels_csv_not_in_utf8_is_named(tmp_path, capsys):
    """One in another encoding was a UnicodeDecodeError traceback."""
    (tmp_path / "crops").mkdir()
    (tmp_path / "crops" / "labels.csv").write_bytes("file,state,plate\nstra\xdfe.jpg,CA,AB1\n".encode("latin-1"))
    assert main(["eval", "ocr", str(tmp_path / "crops"), "--json"]) == 1
    assert "labels.csv is not UTF-8 text" in capsys.readouterr().err


def test_a_labels_csv_row_without_a_file_name_is_named(tmp_path, capsys):
    """A row with an empty file column was looked for as the folder itself, and reported as an
    unreadable image named after the folder."""
    _labels(tmp_path / "crops", ["a.jpg"])
    with (tmp_path / "crops" / "labels.csv").open("a") as fh:
        fh.write(",CA,7XYZ999\n")
    assert main(["eval", "ocr", str(tmp_path / "crops"), "--json"]) == 1
    assert "labels.csv line 3: no file name" in capsys.readouterr().err
