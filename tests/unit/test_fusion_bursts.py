"""Frames of one burst, and bursts of one vehicle, fuse into one read."""

import numpy as np

from gateway.recognition.fusion import Observation, PassFuser, edit_distance, fuse


def obs(text, conf, index=0, trigger=1, board="b1", others=(), at=100.0, box=(10, 10, 80, 40)):
    cands = [(text, conf), *others]
    return Observation(board, trigger, index, at, cands, [conf] * len(text), box,
                       np.zeros((4, 8, 3), np.uint8), b"jpeg%d" % index)


def test_edit_distance():
    assert edit_distance("ABC123", "ABC123") == 0
    assert edit_distance("ABC123", "A8C123") == 1
    assert edit_distance("ABC123", "ABC1234") == 1


def test_votes_pick_the_majority_text_and_the_best_crop():
    fused = fuse([obs("7ABC123", 0.9, 0), obs("7ABC128", 0.6, 1, others=[("7ABC123", 0.3)]),
                  obs("7ABC123", 0.95, 2)])
    assert fused.text == "7ABC123"
    assert fused.frames == 3
    assert fused.best.index == 2  # the most confident frame with the winning text
    assert 0.0 < fused.confidence <= 1.0
    assert [t for t, _ in fused.candidates][:2] == ["7ABC123", "7ABC128"]


def test_one_burst_one_read_on_its_last_frame():
    f = PassFuser(pass_gap_s=3.0)
    assert f.frame("b1", 1, 0, 3, 100.0, [obs("7ABC123", 0.9, 0)]) == []
    assert f.frame("b1", 1, 1, 3, 100.1, [obs("7ABC128", 0.5, 1)]) == []
    updates = f.frame("b1", 1, 2, 3, 100.2, [obs("7ABC123", 0.9, 2)])
    assert [u.kind for u in updates] == ["new"]
    assert updates[0].read.text == "7ABC123" and updates[0].read.frames == 3
    assert updates[0].burst_last_at == 100.2
    assert f.pending() == 0


def test_two_plates_in_one_burst_are_two_reads():
    f = PassFuser()
    f.frame("b1", 1, 0, 2, 1.0, [obs("7ABC123", 0.9, 0), obs("XYZ9876", 0.8, 0, box=(300, 10, 80, 40))])
    updates = f.frame("b1", 1, 1, 2, 1.1, [obs("7ABC123", 0.9, 1), obs("XYZ9876", 0.85, 1)])
    assert sorted(u.read.text for u in updates) == ["7ABC123", "XYZ9876"]
    assert all(u.kind == "new" for u in updates)


def test_next_burst_of_the_same_vehicle_within_the_gap_updates_the_pass():
    f = PassFuser(pass_gap_s=3.0)
    first = f.frame("b1", 1, 0, 1, 10.0, [obs("7ABC123", 0.6, 0, trigger=1)])
    second = f.frame("b1", 2, 0, 1, 11.5, [obs("7ABC123", 0.95, 0, trigger=2)])
    assert first[0].kind == "new" and second[0].kind == "update"
    assert second[0].pass_id == first[0].pass_id and second[0].read.frames == 2
    # Past the gap, the same plate is a new pass (the car drove by again).
    f.poll(20.0)
    third = f.frame("b1", 3, 0, 1, 20.0, [obs("7ABC123", 0.9, 0, trigger=3)])
    assert third[0].kind == "new" and third[0].pass_id != first[0].pass_id


def test_other_board_or_other_plate_is_another_pass():
    f = PassFuser()
    a = f.frame("b1", 1, 0, 1, 1.0, [obs("7ABC123", 0.9)])
    b = f.frame("b2", 1, 0, 1, 1.1, [obs("7ABC123", 0.9, board="b2")])
    c = f.frame("b1", 2, 0, 1, 1.2, [obs("KLM4455", 0.9, trigger=2)])
    assert [u.kind for u in a + b + c] == ["new", "new", "new"]


def test_burst_with_missing_frames_closes_on_timeout_and_empty_burst_gives_nothing():
    f = PassFuser(burst_timeout_s=1.0)
    assert f.frame("b1", 1, 0, 5, 1.0, [obs("7ABC123", 0.9)]) == []
    assert f.poll(1.5) == []
    updates = f.poll(2.1)
    assert len(updates) == 1 and updates[0].read.frames == 1
    assert f.frame("b1", 2, 0, 1, 3.0, []) == []


def test_a_garbled_frame_at_the_same_place_joins_its_vehicle():
    f = PassFuser()
    f.frame("b1", 1, 0, 3, 1.0, [obs("7ABC123", 0.9, 0, box=(100, 100, 80, 40))])
    f.frame("b1", 1, 1, 3, 1.1, [obs("3385", 0.3, 1, box=(95, 98, 90, 45))])
    updates = f.frame("b1", 1, 2, 3, 1.2, [obs("7ABC123", 0.8, 2, box=(90, 95, 100, 50)),
                                           obs("KLM4455", 0.8, 2, box=(400, 100, 80, 40))])
    assert sorted((u.read.text, u.read.frames) for u in updates) == [("7ABC123", 3), ("KLM4455", 1)]
