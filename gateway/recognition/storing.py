"""Turning fused passes into stored reads.

A pass is stored as soon as its first burst closes (an alert must not wait
for the vehicle to leave). A later burst of the same vehicle that changes the
fused result updates that stored read in place (text, confidence, candidates,
images, frame count) and, when the text changed, is matched against the
hotlists again; it never makes a second read of the same pass.
"""

from __future__ import annotations

import datetime as dt
import logging

import cv2

from gateway.events import bus
from gateway.recognition import formats
from gateway.recognition.fusion import FusedRead
from gateway.store.images import ImageStore
from gateway.store.models import Read
from gateway.store.reads import NewRead, publish_alerts, raise_alerts, save_read

logger = logging.getLogger(__name__)


def _jpeg(img, quality: int = 90) -> bytes | None:
    if img is None or img.size == 0:
        return None
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes() if ok else None


def new_read(fused: FusedRead, position: tuple[float, float] | None) -> NewRead:
    best = fused.best
    states = formats.states_for(fused.text)
    return NewRead(
        plate=fused.text,
        confidence=round(float(fused.confidence), 4),
        seen_at=dt.datetime.fromtimestamp(best.captured_at, dt.UTC).replace(tzinfo=None),
        candidates=[{"text": t, "confidence": round(float(c), 4)} for t, c in fused.candidates],
        char_confidence=[round(float(c), 4) for c in best.char_confidence] if best.text == fused.text else [],
        state=states[0] if len(states) == 1 else "",
        board_id=best.board_id,
        latitude=position[0] if position else None,
        longitude=position[1] if position else None,
        crop_jpeg=_jpeg(best.crop),
        context_jpeg=best.frame_jpeg,
        box=[int(v) for v in best.box],
        frames=fused.frames,
    )


class ReadWriter:
    def __init__(self, images: ImageStore, save=save_read):
        self.images = images
        self.save = save
        self._stored: dict[int, tuple[int, str, float, int]] = {}  # pass id -> (read id, text, conf, frames)

    def new(self, pass_id: int, fused: FusedRead, position) -> Read:
        read = self.save(new_read(fused, position), self.images)
        self._stored[pass_id] = (read.id, fused.text, fused.confidence, fused.frames)
        if len(self._stored) > 1000:  # passes end after pass_gap_s; keep only recent ones
            for key in list(self._stored)[:500]:
                del self._stored[key]
        return read

    def update(self, pass_id: int, fused: FusedRead) -> bool:
        """Refresh the pass's stored read if the fused result changed; True if it did."""
        known = self._stored.get(pass_id)
        if known is None:
            return False
        read_id, text, confidence, frames = known
        if fused.text == text and abs(fused.confidence - confidence) < 0.02 and fused.frames == frames:
            return False
        new = new_read(fused, None)
        crop = self.images.put(new.crop_jpeg) if new.crop_jpeg else ""
        context = self.images.put(new.context_jpeg) if new.context_jpeg else ""
        Read.update(plate=new.plate, confidence=new.confidence, candidates=new.candidates,
                    char_confidence=new.char_confidence, state=new.state, frames=new.frames,
                    crop_sha256=crop, context_sha256=context, box=new.box,
                    # sent again: the regional server takes the car's revision of a read it has
                    upload_state="pending", uploaded_at=None, images_uploaded_at=None,
                    revision=Read.revision + 1).where(
            Read.id == read_id).execute()
        self._stored[pass_id] = (read_id, fused.text, fused.confidence, fused.frames)
        read = Read.get_by_id(read_id)
        alerts = raise_alerts(read) if fused.text != text else []
        bus.publish("read", id=read.id, uid=read.uid, updated=True)
        publish_alerts(read, alerts)
        return True
