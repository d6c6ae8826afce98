"""The regional server's HTTP API (Flask). The TLS layer (serve.py) has
already required a client certificate signed by the region's CA; here the
certificate's serial is checked against the revocation list and its common
name becomes the car's terminal id for every stored read and access record.

Fault injection (`faults`) exists so that a technician, and the tests, can
see how a car behaves when the server fails: a share of uploads answered 500
after the data is committed, or answered late.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import random
import threading
import time
from pathlib import Path

from cryptography import x509
from flask import Flask, Response, abort, g, jsonify, request

from gateway.upload.codec import CONTENT_TYPE, CodecError, decode_batch
from tools.regional import pki
from tools.regional.models import (
    RegionalAccess,
    RegionalHotlist,
    RegionalImage,
    RegionalRead,
    database,
    utcnow,
)

logger = logging.getLogger(__name__)

OPENAPI = Path(__file__).with_name("openapi.json")
_INSERT_CHUNK = 400
# A read "seen" this far after it arrived was stamped by a car whose clock is wrong.
# Retention runs on received_at, so such a read is kept as sent (the car's own
# record) and the skew is written to the access record for whoever reviews it.
SKEW_AHEAD = dt.timedelta(minutes=5)


class Revocation:
    """The CRL's serials, re-read whenever crl.pem changes on disk."""

    def __init__(self, pki_dir: Path | None):
        self.path = Path(pki_dir) / "crl.pem" if pki_dir else None
        self._mtime = None
        self._serials: set[int] = set()
        self._lock = threading.Lock()

    def serials(self) -> set[int]:
        if self.path is None:
            return set()
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime_ns
            except FileNotFoundError:
                return set()
            if mtime != self._mtime:
                self._serials = pki.revoked_serials(self.path.parent)
                self._mtime = mtime
            return self._serials


def _access(action: str, detail: str = "", outcome: str = "ok") -> None:
    RegionalAccess.create(
        terminal=getattr(g, "terminal", ""), remote=request.remote_addr or "",
        action=action, detail=detail, outcome=outcome,
    )


def _error(status: int, message: str):
    return jsonify({"error": message}), status


def create_app(pki_dir: Path | None, test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=32 * 1024 * 1024, FAULTS={})
    if test_config:
        app.config.update(test_config)
    revocation = Revocation(pki_dir)
    rng = random.Random()
    # One writer at a time: SQLite cannot upgrade a reading transaction to a
    # writing one under contention (it fails at once, busy_timeout or not).
    # PostgreSQL needs no lock; the unique uid and ON CONFLICT keep it right.
    write_lock = threading.Lock()

    @app.before_request
    def authenticate():
        database.connect(reuse_if_open=True)
        pem = request.environ.get("SSL_CLIENT_CERT")
        if not pem:
            return _error(401, "a client certificate is required")
        cert = x509.load_pem_x509_certificate(pem.encode())
        names = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        g.terminal = str(names[0].value) if names else ""
        if cert.serial_number in revocation.serials():
            _access("refused", f"revoked certificate serial {cert.serial_number:x}", "refused")
            return _error(403, "this car's certificate has been revoked")
        return None

    @app.teardown_request
    def close_db(exc):
        if not database.is_closed():
            database.close()

    delayed = {"count": 0}

    def fault(after_commit: bool, reads: int = 0) -> Response | None:
        faults = app.config["FAULTS"]
        if faults.get("delay_per_read_s") and after_commit:
            # An answer as late as a slow link makes it: longer for a larger batch.
            time.sleep(faults["delay_per_read_s"] * reads)
        if faults.get("delay_s") and after_commit:
            limit = faults.get("delay_count", 0)  # 0: every upload is late
            with write_lock:
                late = not limit or delayed["count"] < limit
                delayed["count"] += 1
            if late:
                time.sleep(faults["delay_s"])
        if after_commit:
            with write_lock:
                failing = faults.get("error_count", 0) > 0
                if failing:
                    faults["error_count"] -= 1
            if failing or rng.random() < faults.get("error_rate", 0.0):
                return _error(500, "injected fault after commit")
        return None

    @app.get("/openapi.json")
    def openapi():
        return Response(OPENAPI.read_bytes(), mimetype="application/json")

    @app.get("/api/v1/health")
    def health():
        return jsonify({"ok": True, "terminal": g.terminal})

    @app.post("/api/v1/reads")
    def post_reads():
        if request.mimetype != CONTENT_TYPE or request.headers.get("Content-Encoding") != "gzip":
            _access("upload", f"refused content type {request.mimetype or '-'} encoding "
                              f"{request.headers.get('Content-Encoding') or '-'}", "rejected")
            return _error(415, f"send {CONTENT_TYPE} with Content-Encoding: gzip")
        try:
            rows = decode_batch(request.get_data())
        except CodecError as exc:
            _access("upload", str(exc), "rejected")
            return _error(400, str(exc))
        by_uid = {r["uid"]: r for r in rows}
        with write_lock, database.atomic():
            existing: dict[str, RegionalRead] = {}
            uids = list(by_uid)
            for i in range(0, len(uids), _INSERT_CHUNK):
                existing.update(
                    (read.uid, read) for read in RegionalRead.select()
                    .where(RegionalRead.uid.in_(uids[i : i + _INSERT_CHUNK]))
                )
            new = [_db_row(r, g.terminal) for u, r in by_uid.items() if u not in existing]
            if new:
                # executemany with ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike):
                # a tenth of the CPU of building one multi-row statement in peewee.
                database.cursor().executemany(_insert_sql(), new)
            updated = sum(_revise(existing[u], by_uid[u], g.terminal) for u in existing)
            detail = (f"received={len(rows)} stored={len(new)} updated={updated} "
                      f"duplicates={len(rows) - len(new) - updated}")
            detail += _skew(rows)
            _access("upload", detail)
        injected = fault(after_commit=True, reads=len(rows))
        if injected is not None:
            return injected
        return jsonify({"received": len(rows), "stored": len(new), "updated": updated,
                        "duplicates": len(rows) - len(new) - updated})

    @app.put("/api/v1/reads/<uid>/images/<kind>")
    def put_image(uid: str, kind: str):
        if kind not in ("crop", "context"):
            _access("image", f"{uid} unknown image kind {kind[:20]!r}", "rejected")
            abort(404)
        read = RegionalRead.get_or_none(RegionalRead.uid == uid)
        if read is None:
            _access("image", f"{uid} {kind}: unknown read", "rejected")
            return _error(404, "unknown read: send its data first")
        if read.terminal != g.terminal:
            _access("image", f"read {uid} belongs to another car", "refused")
            return _error(403, "this read belongs to another car")
        data = request.get_data()
        sha = hashlib.sha256(data).hexdigest()
        expected = getattr(read, f"{kind}_sha256")
        if sha != expected or request.headers.get("X-Content-SHA256", sha) != sha:
            _access("image", f"{uid} {kind}: SHA-256 {sha} does not match {expected}", "rejected")
            return _error(409, f"image SHA-256 {sha} does not match the read's {expected}")
        with write_lock, database.atomic():
            created = RegionalImage.insert(read=read, kind=kind, sha256=sha, data=data) \
                .on_conflict_ignore().execute()
            _access("image", f"{uid} {kind}")
        return jsonify({"stored": bool(created)}), (201 if created else 200)

    @app.get("/api/v1/hotlists")
    def list_hotlists():
        lists = [
            {"name": h.name, "version": h.version, "sha256": h.version,
             "record_count": h.record_count, "priority": h.priority, "covert": bool(h.covert),
             "description": h.description, "published_at": h.published_at.isoformat()}
            for h in RegionalHotlist.select(
                RegionalHotlist.name, RegionalHotlist.version, RegionalHotlist.record_count,
                RegionalHotlist.priority, RegionalHotlist.covert, RegionalHotlist.description,
                RegionalHotlist.published_at,
            ).order_by(RegionalHotlist.name)
        ]
        _access("hotlist-index", f"{len(lists)} lists")
        return jsonify({"lists": lists})

    @app.get("/api/v1/hotlists/<name>")
    def get_hotlist(name: str):
        row = RegionalHotlist.get_or_none(RegionalHotlist.name == name)
        if row is None:
            return _error(404, f"no hotlist named {name!r}")
        etag = f'"{row.version}"'
        if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
            return Response(status=304, headers={"ETag": etag})
        _access("hotlist", f"{name} version {row.version[:12]}")
        return Response(
            bytes(row.body), mimetype="application/json",
            headers={"ETag": etag, "X-Record-Count": str(row.record_count),
                     "X-Content-SHA256": row.version},
        )

    return app


# What a car may revise of a read it sent: a later burst of the same vehicle pass reads it
# better (gateway/recognition/storing.py, ReadWriter.update), often after the first upload.
_REVISABLE = ("plate", "confidence", "candidates", "state", "crop_sha256", "context_sha256", "box",
              "frames")


def _revise(read: RegionalRead, r: dict, terminal: str) -> bool:
    """Bring a stored read up to the car's revision of it; True if anything changed. Only its
    own car may revise it; an image the revision replaced is dropped, so that the new one can
    be sent (a replaced image was refused as not matching the read)."""
    if read.terminal != terminal:
        logger.warning("car %s sent read %s, which belongs to %s; ignored", terminal, read.uid,
                       read.terminal)
        return False
    row = dict(zip(_INSERT_COLUMNS, _db_row(r, terminal), strict=True))  # stored as a new read is
    fresh = {k: row[k] for k in _REVISABLE}
    changed = {k: v for k, v in fresh.items() if getattr(read, k) != v}
    if not changed:
        return False
    RegionalRead.update(**changed).where(RegionalRead.id == read.id).execute()
    for kind in ("crop", "context"):
        if f"{kind}_sha256" in changed:
            RegionalImage.delete().where((RegionalImage.read == read.id)
                                         & (RegionalImage.kind == kind)).execute()
    return True


def _skew(rows: list[dict]) -> str:
    """' seen_at_ahead=N max_ahead_s=S' for reads stamped in the future by the car's clock."""
    now = utcnow()
    ahead = [(r["seen_at"] - now).total_seconds() for r in rows if r["seen_at"] - now > SKEW_AHEAD]
    if not ahead:
        return ""
    logger.warning("car %s sent %d reads seen up to %.0f s in the future: its clock is wrong",
                   getattr(g, "terminal", ""), len(ahead), max(ahead))
    return f" seen_at_ahead={len(ahead)} max_ahead_s={max(ahead):.0f}"


_INSERT_COLUMNS = ("uid", "agency", "terminal", "plate", "confidence", "candidates", "state",
                   "seen_at", "board_id", "camera", "latitude", "longitude", "crop_sha256",
                   "context_sha256", "box", "frames", "received_at")


def _insert_sql() -> str:
    table = RegionalRead._meta.table_name
    marks = ", ".join([database.param] * len(_INSERT_COLUMNS))
    return (f"INSERT INTO {table} ({', '.join(_INSERT_COLUMNS)}) VALUES ({marks}) "
            "ON CONFLICT (uid) DO NOTHING")


def _db_row(r: dict, terminal: str) -> tuple:
    now = str(utcnow())
    return (
        r["uid"], "", terminal, r["plate"], float(r["confidence"]),
        json.dumps(r["candidates"], separators=(",", ":")), r["state"], str(r["seen_at"]),
        r["board_id"], r["camera"], r["latitude"], r["longitude"], r["crop_sha256"],
        r["context_sha256"], json.dumps(r["box"]) if r["box"] is not None else "", r["frames"],
        now,
    )
