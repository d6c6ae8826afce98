"""CTC decoding in numpy: best path, beam search candidates, character confidences."""

import numpy as np

from gateway.recognition.ocr_decode import aligned_steps, beam_search, best_path, char_confidences
from gateway.recognition.ocr_input import ALPHABET, NUM_CLASSES, encode, preprocess

C = NUM_CLASSES


def frames(seq, conf=0.9):
    """A probability matrix spelling `seq` (None = a blank step), `conf` on the named class."""
    probs = np.full((len(seq), C), (1 - conf) / (C - 1))
    for t, s in enumerate(seq):
        probs[t, 0 if s is None else encode(s)[0]] = conf
    return probs


def test_best_path_merges_repeats_and_drops_blanks():
    p = frames(["A", "A", None, "A", "B", "B", None, None, "7"])
    assert best_path(p, ALPHABET) == "AAB7"


def test_beam_search_gives_ranked_candidates_with_the_ambiguous_one_second():
    seq = ["A", None, "B", None, "C", None, "8", None]
    p = frames(seq, conf=0.97)
    # step 6 is an 8 that might be a B
    p[6] = 0.001
    p[6, encode("8")[0]] = 0.6
    p[6, encode("B")[0]] = 0.35
    p[6] /= p[6].sum()
    cands = beam_search(p, ALPHABET, k=5)
    assert len(cands) == 5
    assert cands[0][0] == "ABC8"
    assert cands[1][0] == "ABCB"
    probs = [c for _, c in cands]
    assert probs == sorted(probs, reverse=True)
    assert 0 < probs[0] <= 1
    assert len({t for t, _ in cands}) == 5


def test_confident_read_still_gives_five_candidates():
    p = frames(["X", None, "Y", None, "Z"], conf=0.99999)
    cands = beam_search(p, ALPHABET, k=5)
    assert cands[0][0] == "XYZ"
    assert len(cands) == 5 and len({t for t, _ in cands}) == 5


def test_char_confidences_follow_the_alignment():
    p = frames([None, "Q", "Q", None, "Q", None, "1"], conf=0.8)
    p[2, encode("Q")[0]] = 0.95
    p[2] /= p[2].sum()
    text = best_path(p, ALPHABET)
    assert text == "QQ1"
    steps = aligned_steps(p, text, ALPHABET)
    assert steps[0] in (1, 2) and steps[1] == 4 and steps[2] == 6
    conf = char_confidences(p, text, ALPHABET)
    assert len(conf) == 3 and conf[0] > conf[1]


def test_a_character_split_over_two_steps_is_still_sure():
    # Two joined networks that place the "8" one step apart: half of it on each step.
    p = frames(["7", None, "8", "8", None, "B"], conf=0.98)
    for t, other in ((2, 0), (3, 0)):
        p[t] = 0.0
        p[t, encode("8")[0]] = 0.5
        p[t, other] = 0.5
    text = beam_search(p, ALPHABET, k=5)[0][0]
    assert text == "78B"
    conf = char_confidences(p, text, ALPHABET)
    assert conf[1] > 0.95  # not 0.5, which would make a format swap 8 -> B look free


def test_preprocess_shape_and_range():
    crop = (np.random.default_rng(0).random((40, 90, 3)) * 255).astype(np.uint8)
    x = preprocess(crop)
    assert x.shape == (32, 128, 1) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
