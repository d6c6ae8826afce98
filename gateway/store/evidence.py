"""Evidence export: a read set written to a folder for portable media.

The folder holds `images/<sha>.jpg`, `reads.json` (every field of every read
and its alerts with their history), `MANIFEST.sha256` (`sha256sum -c`
format, covering every other file) and `CHAIN_OF_CUSTODY.txt` for the
signatures of everyone who handles the media. The export is recorded in the
access record.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from gateway.errors import AlprError
from gateway.store import audit
from gateway.store.images import ImageStore, ImageStoreError, fsync_dir
from gateway.store.models import Alert, AlertEvent, Read, utcnow


class ExportError(AlprError):
    """The export could not be written as asked."""


def _read_record(read: Read) -> dict:
    alerts = []
    for alert in Alert.select().where(Alert.read == read).order_by(Alert.id):
        events = [{"step": e.step, "outcome": e.outcome, "username": e.username, "note": e.note,
                   "at": e.at.isoformat() + "Z"}
                  for e in AlertEvent.select().where(AlertEvent.alert == alert).order_by(AlertEvent.id)]
        alerts.append({"id": alert.id, "list": alert.list_name, "entry": alert.entry_plate,
                       "kind": alert.match_kind, "quality": alert.quality,
                       "status": alert.status, "history": events})
    return {
        "id": read.id, "uid": read.uid, "plate": read.plate, "confidence": read.confidence,
        "candidates": read.candidates, "state": read.state,
        "seen_at": read.seen_at.isoformat() + "Z", "board_id": read.board_id,
        "camera": read.camera, "latitude": read.latitude, "longitude": read.longitude,
        "crop_image": f"images/{read.crop_sha256}.jpg" if read.crop_sha256 else None,
        "context_image": f"images/{read.context_sha256}.jpg" if read.context_sha256 else None,
        "box": read.box, "frames": read.frames, "alerts": alerts,
    }


def _sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def export(read_ids: list[int], dest: Path, images: ImageStore, *, username: str,
           case_number: str, purpose: str, agency: str = "", terminal: str = "",
           released_to: str = "") -> dict:
    """Write the reads to `dest` (which must be new or empty); returns a summary.

    `released_to`: the other agency and official the media goes to, for a release under policy
    462.5(d); it is in the access record, `reads.json` and the custody sheet. Empty for media
    booked into this department's own evidence.

    All or nothing: the files are written into a hidden folder beside `dest` and renamed into
    place once complete and recorded, so a full medium or a pulled stick never leaves a partial
    export that looks like evidence, and the retry finds `dest` as it was."""
    if not case_number.strip() or not purpose.strip():
        raise ExportError("an evidence export needs a case number and a purpose")
    released_to = check_released_to(released_to)
    reads = list(Read.select().where(Read.id.in_(read_ids)).order_by(Read.seen_at))
    missing = sorted(set(read_ids) - {r.id for r in reads})
    if missing:
        raise ExportError(f"no stored read with id {', '.join(map(str, missing))}; nothing exported")
    if not reads:
        raise ExportError("no reads to export")
    dest = Path(dest)
    record = {"exported_at": utcnow().isoformat() + "Z", "exported_by": username, "agency": agency,
              "terminal": terminal, "case_number": case_number, "purpose": purpose,
              "released_to": released_to, "reads": [_read_record(r) for r in reads]}
    shas = [sha for r in reads for sha in (r.crop_sha256, r.context_sha256) if sha]
    summary = write_folder(dest, record, shas, lambda sha: _stored_image(images, sha))
    try:
        audit.record("evidence.export", username=username, case_number=case_number,
                     purpose=purpose, query="reads " + ",".join(str(r.id) for r in reads),
                     detail=f"to {dest}; {released_detail(released_to)}; "
                            f"manifest sha256 {summary['manifest_sha256']}")
    except BaseException:
        # An export the access record does not hold must not stay on the media (policy 462.5).
        shutil.rmtree(dest, ignore_errors=True)
        raise
    summary["folder"] = str(dest)
    return summary


def check_released_to(released_to: str | None) -> str:
    """The recipient of a release as given, stripped; a value with nothing in it is refused
    rather than recorded as no release."""
    if released_to is None or released_to == "":
        return ""
    text = released_to.strip()
    if not text:
        raise ExportError("--released-to is blank: name the agency and the official receiving the "
                          "media (policy 462.5(d)), or leave it out for this department's evidence")
    return text[:300]


def released_detail(released_to: str) -> str:
    return f"released to {released_to}" if released_to else "not released to another agency"


def _staging_folder(dest: Path) -> Path:
    """A new hidden folder beside `dest`, on the same medium so that the final rename is atomic."""
    if dest.exists() and not dest.is_dir():
        raise ExportError(f"{dest} is a file; --out takes a folder, new or empty")
    if dest.is_dir() and any(dest.iterdir()):
        raise ExportError(f"{dest} is not empty; choose a new folder for the export")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}.partial-"))
    except (NotADirectoryError, FileExistsError):  # mkdir says FileExistsError for a file in the way
        raise ExportError(f"{dest.parent} is not a folder (part of the path is a file); choose "
                          "another --out") from None
    except OSError as exc:
        raise ExportError(f"cannot write in {dest.parent}: {exc.strerror}; check that the media is "
                          "mounted and writable, or choose another --out") from None


def _place(staging: Path, dest: Path) -> None:
    if dest.is_dir():
        dest.rmdir()  # empty (checked before): replaced by the complete export
    os.rename(staging, dest)
    fsync_dir(dest.parent)  # the rename itself survives the stick being pulled


def _stored_image(images: ImageStore, sha: str) -> bytes | None:
    try:
        return images.read(sha)
    except ImageStoreError:
        return None  # already pruned: listed as missing


def write_folder(dest: Path, record: dict, image_shas: list[str], load_image) -> dict:
    """Write an export folder: `images/<sha>.jpg` for each of `image_shas` that `load_image(sha)`
    returns (None: already gone, listed in `missing_images`), `reads.json` (`record` with
    `missing_images` added), `CHAIN_OF_CUSTODY.txt` and `MANIFEST.sha256`; returns a summary.

    All or nothing: the files are written into a hidden folder beside `dest` and renamed into
    place once complete, so a full medium or a pulled stick never leaves a partial export that
    looks like evidence. The car's export and the regional center's both write through here."""
    dest = Path(dest)
    staging = _staging_folder(dest)
    try:
        summary = _write(staging, record, image_shas, load_image)
        _place(staging, dest)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ExportError(f"could not write the export to {dest}: {exc.strerror or exc}; nothing "
                          "was left there: free some space or use other media, and run the export "
                          "again") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return summary


def _write(dest: Path, record: dict, image_shas: list[str], load_image) -> dict:
    (dest / "images").mkdir(parents=True, exist_ok=True)
    missing_images = []
    for sha in dict.fromkeys(image_shas):
        data = load_image(sha)
        if data is None:
            missing_images.append(sha)
            continue
        if hashlib.sha256(data).hexdigest() != sha:
            raise ExportError(f"stored image {sha} no longer matches its hash; "
                              "the image store is damaged, nothing should be booked from it")
        (dest / "images" / f"{sha}.jpg").write_bytes(data)
    record = {**record, "missing_images": missing_images}
    count = len(record["reads"])
    (dest / "reads.json").write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    (dest / "CHAIN_OF_CUSTODY.txt").write_text(_custody_sheet(record, count), encoding="utf-8")
    files = sorted(p for p in dest.rglob("*") if p.is_file() and p.name != "MANIFEST.sha256")
    lines = [f"{_sha256_file(p)}  {p.relative_to(dest).as_posix()}" for p in files]
    manifest = dest / "MANIFEST.sha256"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for path in [*files, manifest]:
        with path.open("rb") as fh:
            os.fsync(fh.fileno())
    return {"reads": count, "files": len(files) + 1,
            "manifest_sha256": _sha256_file(manifest), "missing_images": missing_images}


def _custody_sheet(record: dict, count: int) -> str:
    rows = "\n".join(["Date/time (UTC)      | Released by          | Received by          | Purpose",
                      "-" * 90] + ["                     |                      |                      |"] * 8)
    return (
        "CHAIN OF CUSTODY - ALPR EVIDENCE EXPORT\n\n"
        f"Case number:   {record['case_number']}\n"
        f"Purpose:       {record['purpose']}\n"
        f"Agency:        {record['agency']}\n"
        f"Terminal:      {record['terminal']}\n"
        f"Released to:   {record.get('released_to') or '(not released to another agency)'}\n"
        f"Exported by:   {record['exported_by']}\n"
        f"Exported at:   {record['exported_at']}\n"
        f"Reads:         {count}\n\n"
        "Integrity: every file is listed with its SHA-256 in MANIFEST.sha256;\n"
        "check with `sha256sum -c MANIFEST.sha256` in this folder. The manifest's own\n"
        "SHA-256 is in the agency's access record for this export.\n\n"
        f"{rows}\n"
    )
