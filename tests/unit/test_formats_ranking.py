"""US plate formats and OCR confusions rank candidate readings."""

from gateway.recognition import formats


def test_shapes_and_states():
    assert formats.shape("7ABC123") == "9AAA999"
    assert formats.fits("7ABC123")
    assert "CA" in formats.states_for("7ABC123")
    assert set(formats.states_for("ABC1234")) >= {"NY", "TX", "PA"}
    assert not formats.fits("HELLO1")


def test_confusion_swap_at_an_unsure_position_wins():
    # The OCR read O where California's format wants a digit, and was unsure there.
    ranked = formats.rank([("7ABCO23", 0.6)], [0.99, 0.99, 0.98, 0.99, 0.35, 0.99, 0.99])
    assert ranked[0][0] == "7ABC023"
    assert any(text == "7ABCO23" for text, _ in ranked)


def test_confident_reading_outside_every_format_is_kept_first():
    # A vanity plate read with confidence: a swap would cost more than the format bonus.
    ranked = formats.rank([("GOBEARS", 0.95)], [0.99] * 7)
    assert ranked[0][0] == "GOBEARS"


def test_reading_that_fits_keeps_its_score_and_junk_is_dropped():
    ranked = formats.rank([("ABC1234", 0.9), ("AB-C12", 0.05), ("", 0.01), ("X", 0.01)])
    assert ranked[0] == ("ABC1234", 0.9)
    assert "ABC12" in [t for t, _ in ranked]  # normalised, not dropped
    assert all(len(t) >= 2 for t, _ in ranked)


def test_swaps_are_limited():
    # Three letters where digits belong: no format is reached with at most two swaps.
    ranked = formats.rank([("ABCOOO", 0.5)], [0.1] * 6)
    assert all(formats.shape(t) != "AAA999" or t.count("0") <= 2 for t, _ in ranked)


def test_long_vanity_readings_are_kept():
    # us-crops has vanity plates of 9 and 10 characters; the OCR reads up to 10.
    assert formats.rank([("1TARHEELS", 0.75)], [1.0] * 9)[0][0] == "1TARHEELS"
    assert formats.rank([("SWEETTHING", 0.79)], [1.0] * 10)[0][0] == "SWEETTHING"
    assert not formats.rank([("ABCDEFGHIJK", 0.9)])
