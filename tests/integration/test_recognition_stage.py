"""The recognition stage end to end: generated vehicles' bursts in, one stored read per pass out.

Real models (the shipped detector and OCR), real store; frames are JPEG
bursts of synthetic vehicles coming closer, as a board would send them.
"""

import hashlib
import queue
import threading
import time

import cv2
import numpy as np
import pytest

from gateway.config import Config
from gateway.link.frames import ReceivedFrame
from gateway.recognition.fusion import edit_distance
from gateway.recognition.stage import RecognitionStage
from gateway.store.images import ImageStore
from gateway.store.models import Read
from models.synth.scenes import approach
from models.synth.sim_frames import standard_text


def bursts(n_vehicles, burst=3, seed=11, board="sim-1", t0=None):
    rng = np.random.default_rng(seed)
    t0 = time.time() if t0 is None else t0
    frames, texts = [], []
    for v in range(n_vehicles):
        imgs, text, _ = approach(rng, standard_text(rng, v), frames=burst, start_px=95, end_px=130)
        texts.append(text)
        for i, img in enumerate(imgs):
            jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()
            frames.append(ReceivedFrame(board, v + 1, i, burst, t0 + v * 10 + i * 0.1, 8000, 6.0, jpeg,
                                        time.time(), hashlib.sha256(jpeg).hexdigest()))
    return frames, texts


def run_stage(datadir, frames, expect_reads, **kw):
    q = queue.Queue(maxsize=256)
    for f in frames:
        q.put(f)
    stage = RecognitionStage(Config(), datadir, q, **kw)
    stop = threading.Event()
    thread = threading.Thread(target=stage.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while (stage.stats["reads"] < expect_reads or not q.empty()) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(30)
    assert not thread.is_alive()
    return stage


def test_each_vehicle_burst_becomes_one_read(datadir, db):
    frames, texts = bursts(2)
    # The frames wait in the queue while the models load, which on a busy host takes longer
    # than the default lag (0.5 s) past which the stage skips: not what this test is about.
    stage = run_stage(datadir, frames, 2, max_lag_s=30.0)
    reads = list(Read.select().order_by(Read.seen_at))
    assert len(reads) == 2 and stage.stats["reads"] == 2
    assert stage.stats["processed"] == 6 and stage.stats["skipped"] == 0
    images = ImageStore(datadir.images)
    for read, text in zip(reads, texts, strict=True):
        # The fused text is the plate's, or within two characters of it (the OCR's accuracy
        # is measured by `alpr eval`; here the pipeline's plumbing is under test).
        assert edit_distance(read.plate, text) <= 2
        assert read.frames == 3 and read.board_id == "sim-1"
        assert 0 < read.confidence <= 1 and read.candidates[0]["text"] == read.plate
        assert images.exists(read.crop_sha256) and images.exists(read.context_sha256)
        x, y, w, h = read.box
        assert 60 <= w <= 200 and 0 <= x < 640 and 0 <= y < 480
        assert read.latitude is None  # no GPS configured
    assert len(stage.latencies_ms) == 2
    status = stage.status()
    assert status["state"] == "stopped" and status["problems"] == []
    assert status["detector"] == "detector.tflite" and status["ocr"] == "ocr.tflite + ocr_distant.tflite"
    assert status["counters"]["reads"] == 2 and status["read_latency_p95_ms"] > 0


def test_behind_it_skips_within_bursts_counts_and_still_reads_every_vehicle(datadir, db):
    frames, texts = bursts(3, burst=5, seed=12)
    stage = run_stage(datadir, frames, 3, behind_frames=2)
    assert stage.stats["skipped"] > 0
    assert stage.stats["frames"] == 15 == stage.stats["processed"] + stage.stats["skipped"]
    reads = list(Read.select().order_by(Read.seen_at))
    assert len(reads) == 3
    assert all(edit_distance(r.plate, t) <= 2 for r, t in zip(reads, texts, strict=True))
    assert all(1 <= r.frames <= 5 for r in reads)


def test_unreadable_frame_is_counted_and_the_burst_still_closes(datadir, db):
    frames, texts = bursts(1)
    bad = frames[1]
    frames[1] = ReceivedFrame(bad.board_id, bad.trigger_id, 1, 3, bad.captured_at, 8000, 6.0, b"not a jpeg",
                              bad.received_at, hashlib.sha256(b"not a jpeg").hexdigest())
    stage = run_stage(datadir, frames, 1)
    assert stage.stats["bad_frames"] == 1
    reads = list(Read.select())
    assert len(reads) == 1 and edit_distance(reads[0].plate, texts[0]) <= 2
    assert reads[0].frames == 2


@pytest.mark.parametrize("gap", [1.0])
def test_two_bursts_of_one_vehicle_within_the_gap_are_one_read(datadir, db, gap):
    frames, texts = bursts(1, seed=11)
    again = [ReceivedFrame(f.board_id, 2, f.index, f.burst, f.captured_at + gap, 8000, 6.0, f.jpeg,
                           f.received_at, f.sha256) for f in frames]
    stage = run_stage(datadir, frames + again, 1)
    time.sleep(0.2)
    reads = list(Read.select())
    assert len(reads) == 1 and reads[0].frames == 6
    assert stage.stats["reads"] == 1


def test_a_stage_that_cannot_start_says_why(datadir, db, tmp_path):
    """A missing model stops recognition (the supervisor retries); the devices page must say why."""
    config = Config()
    config.recognition.detector = "no-such-backend"
    stage = RecognitionStage(config, datadir, queue.Queue())
    with pytest.raises(Exception, match="no-such-backend"):
        stage.run(threading.Event())
    status = stage.status()
    assert status["state"] == "failed" and "no-such-backend" in status["problems"][0]
    assert status["problems"][0].startswith("cannot start")


def test_an_empty_frame_from_a_board_is_counted_not_fatal(datadir, db):
    """A board's zero-byte frame (a failed capture) made cv2.imdecode raise, which took the stage
    down with the burst it held; it is an unreadable frame like any other."""
    frames, texts = bursts(1)
    bad = frames[1]
    frames[1] = ReceivedFrame(bad.board_id, bad.trigger_id, 1, 3, bad.captured_at, 8000, 6.0, b"",
                              bad.received_at, hashlib.sha256(b"").hexdigest())
    stage = run_stage(datadir, frames, 1)
    assert stage.stats["bad_frames"] == 1 and stage.stats["frames"] == 3
    reads = list(Read.select())
    assert len(reads) == 1 and edit_distance(reads[0].plate, texts[0]) <= 2
    assert reads[0].frames == 2


def test_a_misconfigured_gps_does_not_stop_recognition(datadir, db):
    """gps.source nmea with no gps.port raised from the stage's setup: the supervisor restarted
    the stage until it gave up, and no read was stored at all. Reads are stored without
    position, and the devices page says what to set."""
    config = Config()
    config.gps.source = "nmea"
    frames, texts = bursts(1)
    q = queue.Queue()
    for f in frames:
        q.put(f)
    stage = RecognitionStage(config, datadir, q)
    stop = threading.Event()
    thread = threading.Thread(target=stage.run, args=(stop,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while stage.stats["reads"] < 1 and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(30)
    reads = list(Read.select())
    assert len(reads) == 1 and reads[0].latitude is None
    status = stage.status()
    assert status["state"] == "stopped" and any("gps.port" in p for p in status["problems"])


def test_a_read_revised_after_its_upload_is_sent_again(datadir, db):
    """A later burst of the pass reads the plate better, often after the read went to the
    regional server: the revision must go too (the server replaces its copy by uid)."""
    from gateway.recognition.fusion import FusedRead, Observation
    from gateway.recognition.storing import ReadWriter

    def fused(text, confidence, frames):
        crop = np.full((20, 60, 3), 40 * frames, np.uint8)
        best = Observation("sim-1", 1, 0, time.time(), [(text, confidence)], box=(1, 2, 60, 20),
                           crop=crop, frame_jpeg=cv2.imencode(".jpg", crop)[1].tobytes())
        return FusedRead(text, confidence, [(text, confidence)], best, frames)

    writer = ReadWriter(ImageStore(datadir.images))
    read = writer.new(7, fused("7ABC123", 0.7, 3), None)
    Read.update(upload_state="done").where(Read.id == read.id).execute()
    assert writer.update(7, fused("7ABC128", 0.93, 6))
    again = Read.get_by_id(read.id)
    assert (again.plate, again.upload_state, again.uploaded_at) == ("7ABC128", "pending", None)


def test_frames_still_queued_at_shutdown_are_read_and_stored(datadir, db):
    """The ignition goes off with frames queued: they were acknowledged to their boards, which
    have freed them, so the stage reads them before it stops (it dropped them unread)."""
    frames, texts = bursts(2)
    q = queue.Queue(maxsize=256)
    for f in frames:
        q.put(f)
    stage = RecognitionStage(Config(), datadir, q)
    stop = threading.Event()
    stop.set()  # asked to stop before it reached the queue
    thread = threading.Thread(target=stage.run, args=(stop,), daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert stage.stats["frames"] == 6 and q.empty()
    reads = list(Read.select())
    assert len(reads) == 2 and stage.stats["reads"] == 2
    assert stage.status()["state"] == "stopped"


def test_frames_not_read_within_the_drain_time_are_counted(datadir, db):
    frames, _ = bursts(1)
    q = queue.Queue(maxsize=256)
    for f in frames:
        q.put(f)
    stage = RecognitionStage(Config(), datadir, q, drain_s=0.0)
    stop = threading.Event()
    stop.set()
    stage.run(stop)
    assert q.empty()
    assert stage.stats["frames_lost_at_stop"] == 3 and stage.stats["frames"] == 0


class _RefusingWriter:
    def new(self, *a):
        raise OSError("disk full")

    def update(self, *a):
        raise OSError("disk full")


def test_a_read_the_store_refuses_at_shutdown_is_retried_then_counted(datadir, db):
    frames, _ = bursts(1)
    q = queue.Queue(maxsize=256)
    for f in frames:
        q.put(f)
    stage = RecognitionStage(Config(), datadir, q, writer=_RefusingWriter())
    stop = threading.Event()
    stop.set()
    stage.run(stop)
    assert stage.stats["store_errors"] >= 1 and stage.stats["unsaved_lost"] == 1
