"""Evidence export at the regional center (policy 462.4): the reads held for a case are
"downloaded from the NCRIC server onto portable media and booked into evidence".

The car keeps a delivered read only `store.image_cache_days` (7 by default), so for
anything older the center is the only copy; `alpr regional hold` keeps it past day 365
and this writes it out. The folder is the car's export format (`gateway.store.evidence`):
`images/`, `reads.json`, `MANIFEST.sha256`, `CHAIN_OF_CUSTODY.txt`, all or nothing. The
export is recorded in the center's access record by the person's name, with the case, the
purpose, the folder, the manifest's SHA-256 and the reads' uids; an export the record does
not hold is removed from the media again.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

from gateway.store.evidence import check_released_to, released_detail, write_folder
from tools.regional.holds import RegionalHoldError, person, record
from tools.regional.models import RegionalHold, RegionalImage, RegionalRead, utcnow

logger = logging.getLogger(__name__)


def _iso(moment) -> str:
    return f"{moment.isoformat()}Z" if hasattr(moment, "isoformat") else f"{moment}Z"


def _read_record(read: RegionalRead) -> dict:
    try:
        candidates = json.loads(read.candidates or "[]")
    except ValueError:
        candidates = read.candidates
    return {
        "uid": read.uid, "agency": read.agency, "terminal": read.terminal, "plate": read.plate,
        "confidence": read.confidence, "candidates": candidates, "state": read.state,
        "seen_at": _iso(read.seen_at), "received_at": _iso(read.received_at),
        "board_id": read.board_id, "camera": read.camera,
        "latitude": read.latitude, "longitude": read.longitude,
        "crop_image": f"images/{read.crop_sha256}.jpg" if read.crop_sha256 else None,
        "context_image": f"images/{read.context_sha256}.jpg" if read.context_sha256 else None,
        "box": json.loads(read.box) if read.box else None, "frames": read.frames,
    }


def _image(sha: str) -> bytes | None:
    row = RegionalImage.select(RegionalImage.data).where(RegionalImage.sha256 == sha).first()
    return bytes(row.data) if row is not None else None


def export(case: str, dest: Path, *, user: str, purpose: str, released_to: str = "") -> dict:
    """Write the reads held for `case` at the center to `dest` (new or empty); returns a summary.
    `released_to`: the other agency and official receiving the media (policy 462.5(d))."""
    user = person(user)
    released_to = check_released_to(released_to)
    case, purpose = (case or "").strip(), (purpose or "").strip()
    if not case or not purpose:
        raise RegionalHoldError("an evidence export needs --case and --purpose (policy 462.5(c)); "
                                "nothing was exported")
    held = RegionalHold.select(RegionalHold.read).where(
        (RegionalHold.case_number == case) & RegionalHold.lifted_at.is_null())
    reads = list(RegionalRead.select().where(RegionalRead.id.in_(held)).order_by(RegionalRead.seen_at))
    if not reads:
        raise RegionalHoldError(f"no reads are held for case {case!r} at the center; hold them first "
                                "(`alpr regional hold --case ... --reads UID,...` or `--plate ...`), "
                                "then export; nothing was exported")
    dest = Path(dest)
    exported = {"exported_at": _iso(utcnow()), "exported_by": user, "agency": "",
                "terminal": "regional center", "case_number": case, "purpose": purpose,
                "released_to": released_to, "reads": [_read_record(r) for r in reads]}
    shas = [sha for r in reads for sha in (r.crop_sha256, r.context_sha256) if sha]
    summary = write_folder(dest, exported, shas, _image)
    try:
        record(user, "export", f"case {case}: {len(reads)} reads to {dest}; purpose: {purpose}; "
                               f"{released_detail(released_to)}; "
                               f"manifest sha256 {summary['manifest_sha256']}; "
                               f"uids {','.join(r.uid for r in reads)}")
    except BaseException:
        # An export the access record does not hold must not stay on the media (policy 462.5(b)).
        shutil.rmtree(dest, ignore_errors=True)
        raise
    logger.info("%d reads of case %s exported at the center by %s", len(reads), case, user)
    summary["folder"] = str(dest)
    return summary
