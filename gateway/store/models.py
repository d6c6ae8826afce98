"""peewee models, declared once. The schema itself is created and changed only
by numbered migrations (gateway/store/migrations); these classes describe it.

Times are naive UTC datetimes throughout (SQLite has no time zones); the UI
converts for display.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

from peewee import (
    SQL,
    BooleanField,
    CharField,
    DatabaseProxy,
    DateField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

database = DatabaseProxy()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class JSONField(TextField):
    """JSON in a TEXT column: candidates, capabilities, extra fields."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"), default=str)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Device(BaseModel):
    """A camera board known to this car, with the key it was provisioned with."""

    board_id = CharField(unique=True)
    board_type = CharField(default="sim")  # openmv | esp32s3 | sim
    name = CharField(default="")
    key_hex = CharField()  # HMAC-SHA256 key; the board holds the same
    registered_at = DateTimeField(default=utcnow)
    revoked_at = DateTimeField(null=True)
    last_seen_at = DateTimeField(null=True)
    firmware_version = CharField(default="")


class Read(BaseModel):
    """One vehicle pass: the fused result of a trigger burst."""

    uid = CharField(unique=True, default=lambda: uuid.uuid4().hex)  # idempotency key upstream
    plate = CharField(index=True)
    confidence = FloatField()
    candidates = JSONField(default=list)  # [{"text": ..., "confidence": ...}, ...] best first
    char_confidence = JSONField(default=list)
    state = CharField(default="")  # plate's issuing state where known
    seen_at = DateTimeField(index=True)
    board_id = CharField(index=True, default="")
    camera = CharField(default="")
    latitude = FloatField(null=True)
    longitude = FloatField(null=True)
    crop_sha256 = CharField(default="", index=True)  # images/<aa>/<sha>.jpg (index: m0005)
    context_sha256 = CharField(default="", index=True)
    box = JSONField(null=True)  # [x, y, w, h] in the context image
    frames = IntegerField(default=1)
    # pending -> data_sent -> done (images confirmed) ; images removed after the cache period
    upload_state = CharField(default="pending", index=True)
    uploaded_at = DateTimeField(null=True)
    images_uploaded_at = DateTimeField(null=True)
    images_pruned_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)
    # Raised each time a later burst of the pass revises the read (m0006): the uploader marks
    # a read sent only if no revision came while its data was on the way.
    revision = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])


class HotlistList(BaseModel):
    """One named list (svs, sfr, slr, an NCIC type, officer entries...)."""

    name = CharField(unique=True)
    source = CharField(default="csv")  # clew | ncic | csv | officer | regional
    priority = IntegerField(default=5)  # 1 = highest
    covert = BooleanField(default=False)
    from_clets = BooleanField(default=False)
    description = CharField(default="")
    version = CharField(default="")  # ETag / version from the regional server
    sha256 = CharField(default="")
    record_count = IntegerField(default=0)
    imported_at = DateTimeField(null=True)
    imported_by = CharField(default="")


class HotlistEntry(BaseModel):
    hotlist = ForeignKeyField(HotlistList, backref="entries", on_delete="CASCADE")
    # No index on plate or expiry: matching runs on the in-memory index, and a
    # B-tree over a million random plates would triple the import time.
    plate = CharField()  # normalised; may hold * and ? for partial plates
    is_pattern = BooleanField(default=False)
    state = CharField(default="")
    list_code = CharField(default="")  # e.g. NCIC 'V', CLEW 'svs'
    description = TextField(default="")
    reason = TextField(default="")
    case_number = CharField(default="")
    from_clets = BooleanField(default=False)
    incident_date = DateField(null=True)
    expires_at = DateTimeField(null=True)
    entered_by = CharField(default="")  # officer entries; an imported list has imported_by
    entered_at = DateTimeField(null=True, default=utcnow)  # NULL for imported entries
    extra = JSONField(null=True)  # make, model, colour, county, ...


class Alert(BaseModel):
    read = ForeignKeyField(Read, backref="alerts", on_delete="CASCADE")
    entry = ForeignKeyField(HotlistEntry, null=True, backref="alerts", on_delete="SET NULL")
    list_name = CharField()
    entry_plate = CharField()
    matched_text = CharField()  # which OCR candidate hit
    match_kind = CharField()  # exact | wildcard | fuzzy
    quality = FloatField()
    priority = IntegerField(default=5)
    covert = BooleanField(default=False)
    # new | acknowledged | verified | enforcement; repeat: a later hit on the entry of an
    # alert still open (repeat_of_id), shown as a sighting of it and not sounded again
    status = CharField(default="new", index=True)
    # A plain id, not a foreign key: SQLite cannot drop a column a foreign key names (the
    # migration's down()), and a repeat outliving the purge of its first alert is harmless.
    repeat_of_id = IntegerField(null=True, index=True)
    verified_outcome = CharField(default="")  # confirmed | not_confirmed | misread
    enforcement = CharField(default="")  # taken | not_taken
    created_at = DateTimeField(default=utcnow, index=True)


class AlertEvent(BaseModel):
    """One step of an alert's history: who did what, when, with a note."""

    alert = ForeignKeyField(Alert, backref="events", on_delete="CASCADE")
    # new | acknowledged | verified | enforcement
    step = CharField()
    # verified: confirmed | not_confirmed | misread ; enforcement: taken | not_taken
    outcome = CharField(default="")
    username = CharField(default="")
    note = TextField(default="")
    at = DateTimeField(default=utcnow)


class User(BaseModel):
    username = CharField(unique=True)
    password_hash = CharField()
    role = CharField()  # officer | supervisor | administrator | technician | auditor
    full_name = CharField(default="")
    agency = CharField(default="")
    clets_authorized = BooleanField(default=False)
    totp_secret = CharField(default="")
    locked = BooleanField(default=False)
    locked_at = DateTimeField(null=True)
    disabled = BooleanField(default=False)
    # Who disabled the account and why: "system" for the 90-day idle rule, else the
    # administrator, whose disable a routine unlock must not undo (migration 0003).
    disabled_at = DateTimeField(null=True)
    disabled_by = CharField(default="")
    disabled_reason = TextField(default="")
    last_login_at = DateTimeField(null=True)
    password_changed_at = DateTimeField(default=utcnow)
    created_at = DateTimeField(default=utcnow)


class LoginFailure(BaseModel):
    user = ForeignKeyField(User, backref="failures", on_delete="CASCADE")
    at = DateTimeField(default=utcnow, index=True)
    terminal = CharField(default="")


class TrainingRecord(BaseModel):
    """Department-approved training (policy 462.3(d)); kept at least 3 years."""

    user = ForeignKeyField(User, backref="training", on_delete="CASCADE")
    course = CharField(default="ALPR operator")
    completed_on = DateField()
    expires_on = DateField()
    recorded_by = CharField(default="")
    recorded_at = DateTimeField(default=utcnow)
    # A revoked record is kept for the record, never deleted, and gives no access (migration 0003).
    revoked_at = DateTimeField(null=True)
    revoked_by = CharField(default="")
    revoked_reason = TextField(default="")


class EvidenceHold(BaseModel):
    """Keeps a read past day 365: evidence in an action, or a records request."""

    read = ForeignKeyField(Read, backref="holds", on_delete="CASCADE")
    kind = CharField(default="evidence")  # evidence | records_request
    case_number = CharField()
    reason = TextField(default="")
    placed_by = CharField()
    placed_at = DateTimeField(default=utcnow)
    lifted_by = CharField(default="")
    lifted_at = DateTimeField(null=True)


class AccessRecord(BaseModel):
    """Every access, chained by hash so that a changed or removed record shows."""

    at = CharField(index=True)  # ISO-8601 UTC with microseconds, e.g. 2026-11-28T10:12:42.123456Z
    username = CharField(default="")
    agency = CharField(default="")
    terminal = CharField(default="")
    action = CharField(index=True)
    query = TextField(default="")
    purpose = TextField(default="")
    case_number = CharField(default="")
    outcome = CharField(default="")
    detail = TextField(default="")
    prev_hash = CharField(unique=True)  # unique: the chain can never fork
    hash = CharField()


class Setting(BaseModel):
    """Small key/value state that must survive restarts (warnings, sync versions)."""

    key = CharField(unique=True)
    value = JSONField(null=True)
    updated_at = DateTimeField(default=utcnow)


class WebSession(BaseModel):
    """A signed-in session of the officer's screen, kept here so that the server can end or
    lock it: the browser's cookie holds only a random token, and a copy of that cookie is
    worth no more than this row. Created by migration 0002, so not in ALL_MODELS."""

    # The token's SHA-256: this table never holds a value that would work as a cookie.
    token_sha256 = CharField(unique=True)
    user = ForeignKeyField(User, backref="web_sessions", on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)  # sign-in; re-authentication counts from here
    seen_at = DateTimeField(default=utcnow)  # the officer's last input (idle lock, idle end)
    locked = BooleanField(default=False)
    ended_at = DateTimeField(null=True)
    ended_why = CharField(default="")
    # The purpose and case number the officer gave for the latest search, and the reads it
    # showed: the only stored reads (and images) outside the live view this session may open.
    search = JSONField(null=True)


# The tables of the first migration; a model added later is created by its own migration.
ALL_MODELS = [
    Device,
    Read,
    HotlistList,
    HotlistEntry,
    Alert,
    AlertEvent,
    User,
    LoginFailure,
    TrainingRecord,
    EvidenceHold,
    AccessRecord,
    Setting,
]
