"""The scene label reader that training, the OCR's scene cuts and `alpr eval scenes` share."""

import pytest

from models.detector.data import SceneLabelsError, read_labels


def test_plates_are_grouped_by_file_and_texts_normalised(tmp_path):
    (tmp_path / "labels.tsv").write_text("a.jpg\t1\t2\t30\t15\tabc123\na.jpg\t50\t60\t40\t20\t\n\nb.jpg\t5\t5\t9\t4\n")
    labels = read_labels(tmp_path)
    assert labels == {"a.jpg": [([1.0, 2.0, 30.0, 15.0], "ABC123"), ([50.0, 60.0, 40.0, 20.0], "")],
                      "b.jpg": [([5.0, 5.0, 9.0, 4.0], "")]}


@pytest.mark.parametrize("line, problem", [("a.jpg\t1\t2\tthirty\t15\tX", "line 2: x, y, w, h must be numbers"),
                                           ("a.jpg\t1\t2", "line 2: expected file, x, y, w, h"),
                                           ("\t1\t2\t3\t4\tX", "line 2: expected file, x, y, w, h")])
def test_a_bad_line_is_named_not_skipped(tmp_path, line, problem):
    (tmp_path / "labels.tsv").write_text(f"ok.jpg\t1\t2\t3\t4\tA1\n{line}\n")
    with pytest.raises(SceneLabelsError, match=problem):
        read_labels(tmp_path)


def test_a_folder_without_labels_says_what_it_needs(tmp_path):
    with pytest.raises(SceneLabelsError, match="labels.tsv is missing"):
        read_labels(tmp_path)


def test_labels_not_in_utf8_are_named(tmp_path):
    """A labels.tsv saved in another encoding was a UnicodeDecodeError traceback."""
    (tmp_path / "labels.tsv").write_bytes("ok.jpg\t1\t2\t3\t4\tA1\nstra\xdfe.jpg\t1\t2\t3\t4\tB2\n".encode("latin-1"))
    with pytest.raises(SceneLabelsError, match="labels.tsv is not UTF-8 text"):
        read_labels(tmp_path)
