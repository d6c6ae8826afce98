"""The recognition stage: frames from the link in, one stored read per vehicle pass out.

Each frame is decoded, its plates detected, straightened, read and ranked
(Recognizer), and handed to the PassFuser; closed bursts become stored reads
(ReadWriter), with the car's position when a GPS is configured.

Keeping up: nothing is dropped silently. When the stage is behind (the queue
holds `behind_frames` or more, or a frame waited longer than `max_lag_s`), it
skips frames inside a burst: those of a burst that already gave a confident
read, and every other frame of the rest; the first and last frames of a burst
are always read. Skipped frames still count towards closing their burst, and
are counted in `stats["skipped"]`. A frame that cannot be decoded is counted
and logged. A read the store could not take (full disk) is kept and retried.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time

import cv2
import numpy as np

from gateway.recognition import jpeg
from gateway.recognition.fusion import Observation, PassFuser, PassUpdate
from gateway.recognition.rectify import crop_box

logger = logging.getLogger(__name__)

CONFIDENT = 0.9  # a burst with a read this good needs no more frames when behind


def decode(data: bytes) -> tuple[np.ndarray | None, str]:
    """The frame's image, or None and why not. OpenCV answers most bad bytes with None but
    raises on some (an empty buffer: a board's failed capture), which must not take the stage
    down with the bursts it holds; and a corrupt header declaring a huge size is refused
    before OpenCV allocates it (a 631-byte frame declaring 30000x30000 took over 5 GB)."""
    if not data:
        return None, "an empty frame"
    too_large = jpeg.too_large(data)
    if too_large:
        return None, too_large
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        image = None
    return (image, "") if image is not None else (None, "not a readable JPEG")


class RecognitionStage:
    name = "recognition"

    def __init__(self, config, datadir, in_queue: queue.Queue, *, recognizer=None, writer=None, gps=None,
                 behind_frames: int = 6, max_lag_s: float = 0.5, burst_timeout_s: float = 1.0,
                 drain_s: float = 5.0):
        self.config = config
        self.datadir = datadir
        self.in_queue = in_queue
        self.recognizer = recognizer
        self.writer = writer
        self.gps = gps
        self.behind_frames = behind_frames
        self.max_lag_s = max_lag_s
        self.drain_s = drain_s
        self.fuser = PassFuser(config.recognition.pass_gap_s, burst_timeout_s)
        self.stats: collections.Counter[str] = collections.Counter()
        self.latencies_ms: collections.deque[float] = collections.deque(maxlen=1000)
        self._bursts: dict[tuple[str, int], dict] = {}
        self._unsaved: list[PassUpdate] = []
        self._retry_at = 0.0
        self.state = "starting"
        self.open_error = ""
        self.gps_error = ""

    # --- setup -----------------------------------------------------------------

    def _open(self, stop: threading.Event) -> None:
        if self.recognizer is None:
            from gateway.recognition.recognizer import Recognizer

            try:
                self.recognizer = Recognizer.from_config(self.config.recognition)
            except Exception as exc:
                # the supervisor restarts the stage; the devices page says why it cannot start
                self.state, self.open_error = "failed", str(exc)
                raise
        if self.writer is None:
            from gateway.recognition.storing import ReadWriter
            from gateway.store.images import ImageStore

            self.writer = ReadWriter(ImageStore(self.datadir.images))
        if self.gps is None and not self.gps_error:
            from gateway.recognition.gps import GpsError, from_config

            try:
                self.gps = from_config(self.config.gps)
            except GpsError as exc:
                # a GPS setting must not stop the reads: they are stored without position
                self.gps_error = f"GPS not used: {exc}"
                logger.error("%s; reads are stored without position", self.gps_error)
            if self.gps is not None:
                threading.Thread(target=self.gps.run, args=(stop,), name="gps", daemon=True).start()

    # --- the loop --------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        self._open(stop)
        self.state, self.open_error = "running", ""
        logger.info("recognition running")
        while not stop.is_set():
            try:
                frame = self.in_queue.get(timeout=0.1)
            except queue.Empty:
                frame = None
            updates = self.handle(frame) if frame is not None else []
            updates += self.fuser.poll(time.time())
            self._store(updates)
        self._finish()
        self.state = "stopped"

    def _finish(self) -> None:
        """At shutdown: the frames already received (and acknowledged to their boards) are read,
        for at most drain_s; the bursts still open are fused and stored; a read the store would
        not take is tried once more. Whatever is left is counted and logged, never dropped silently."""
        deadline = time.monotonic() + self.drain_s
        drained = left = 0
        while True:
            try:
                frame = self.in_queue.get_nowait()
            except queue.Empty:
                break
            if time.monotonic() < deadline:
                drained += 1
                self._store(self.handle(frame))
            else:
                left += 1
        if drained:
            logger.info("stopping: read the %d frames still queued", drained)
        if left:
            self.stats["frames_lost_at_stop"] += left
            logger.error("stopping: %d received frames were not read within %.0f s and are lost",
                         left, self.drain_s)
        # Bursts still open at shutdown are fused and stored, not lost.
        self._retry_at = 0.0
        self._store(self.fuser.poll(float("inf")))
        if self._unsaved:
            self.stats["unsaved_lost"] += len(self._unsaved)
            logger.error("stopping: %d reads the store would not take are lost", len(self._unsaved))
            self._unsaved = []

    def status(self) -> dict:
        """For the devices page: running or not (and why not), the models and their problems, the
        counters, and how long a pass waits from its burst's last frame to its stored read."""
        described = self.recognizer.describe() if self.recognizer is not None else {}
        # copies first: the stage's thread goes on counting while the web's thread reads
        latencies, counters = list(self.latencies_ms), dict(self.stats)
        problems = (([f"cannot start: {self.open_error}"] if self.open_error else []) + described.get("problems", [])
                    + ([self.gps_error] if self.gps_error else []))
        return {
            "state": self.state,
            "problems": problems,
            "detector": described.get("detector", {}).get("model", ""),
            "ocr": " + ".join(f for f in (described.get("ocr", {}).get("model"),
                                          described.get("ocr", {}).get("distant_model")) if f),
            "frames_waiting": self.in_queue.qsize(),
            "read_latency_p95_ms": round(float(np.percentile(latencies, 95)), 1) if latencies else None,
            "counters": counters,
        }

    def handle(self, frame) -> list[PassUpdate]:
        self.stats["frames"] += 1
        key = (frame.board_id, frame.trigger_id)
        burst = self._bursts.setdefault(key, {"confident": False, "last_read": -2, "at": time.time()})
        observations: list[Observation] = []
        if self._skip(frame, burst):
            self.stats["skipped"] += 1
            logger.info("behind: skipped frame %d of burst %s/%d (%d skipped in all)",
                        frame.index, frame.board_id, frame.trigger_id, self.stats["skipped"])
        else:
            observations = self._read(frame)
            burst["last_read"] = frame.index
            burst["confident"] |= any(o.confidence >= CONFIDENT for o in observations)
        updates = self.fuser.frame(frame.board_id, frame.trigger_id, frame.index, frame.burst,
                                   frame.received_at, observations)
        if updates or len(self._bursts) > 256:
            cutoff = time.time() - 60
            self._bursts = {k: v for k, v in self._bursts.items() if k != key and v["at"] > cutoff}
        return updates

    def _skip(self, frame, burst) -> bool:
        if frame.index == 0 or frame.index >= frame.burst - 1:
            return False
        behind = (self.in_queue.qsize() >= self.behind_frames
                  or time.time() - frame.received_at > self.max_lag_s)
        if not behind:
            return False
        return burst["confident"] or burst["last_read"] == frame.index - 1

    def _read(self, frame) -> list[Observation]:
        img, why = decode(frame.jpeg)
        if img is None:
            self.stats["bad_frames"] += 1
            logger.warning("frame %d of burst %s/%d skipped: %s (%d bytes)",
                           frame.index, frame.board_id, frame.trigger_id, why, len(frame.jpeg))
            return []
        try:
            plates = self.recognizer.read_frame(img)
        except Exception:  # noqa: BLE001 - one bad frame must not stop the car's reads
            self.stats["errors"] += 1
            logger.exception("recognition failed on a frame of board %s", frame.board_id)
            return []
        self.stats["processed"] += 1
        if not plates:
            self.stats["frames_without_plate"] += 1
        return [
            Observation(frame.board_id, frame.trigger_id, frame.index, frame.captured_at, p.candidates,
                        p.char_confidence, p.detection.box, crop_box(img, p.detection.box), frame.jpeg)
            for p in plates if p.candidates
        ]

    # --- storing ---------------------------------------------------------------

    def _store(self, updates: list[PassUpdate]) -> None:
        if self._unsaved and time.monotonic() >= self._retry_at:
            updates, self._unsaved = self._unsaved + updates, []
        for update in updates:
            try:
                if update.kind == "new":
                    position = self.gps.position() if self.gps is not None else None
                    self.writer.new(update.pass_id, update.read, position)
                    self.stats["reads"] += 1
                    self.latencies_ms.append((time.time() - update.burst_last_at) * 1000.0)
                    logger.debug("stored read %s (%.2f, %d frames)", update.read.text,
                                 update.read.confidence, update.read.frames)
                elif self.writer.update(update.pass_id, update.read):
                    self.stats["read_updates"] += 1
            except Exception as exc:  # noqa: BLE001 - kept and retried, never dropped
                self.stats["store_errors"] += 1
                logger.error("a read could not be stored (%s); keeping it to retry", exc)
                if len(self._unsaved) < 1000:
                    self._unsaved.append(update)
                else:
                    self.stats["unsaved_lost"] += 1
                    logger.error("%d reads waiting for the store; this one is lost", len(self._unsaved))
                self._retry_at = time.monotonic() + 5.0
