"""Evidence holds and records requests: keep reads past day 365.

Placing and lifting a hold are both written to the access record.
"""

from __future__ import annotations

from gateway.errors import AlprError
from gateway.store import audit
from gateway.store.models import EvidenceHold, Read, database, utcnow

HOLD_KINDS = ("evidence", "records_request")


class HoldError(AlprError):
    """A hold could not be placed or lifted as asked."""


def place(read_ids: list[int], case_number: str, username: str, reason: str = "",
          kind: str = "evidence") -> list[EvidenceHold]:
    if kind not in HOLD_KINDS:
        raise HoldError(f"hold kind must be one of {', '.join(HOLD_KINDS)}, not {kind!r}")
    if not case_number.strip():
        raise HoldError("a hold needs the case number (or records request number) it serves")
    if not username:
        raise HoldError("a hold needs the user who places it")
    found = {r.id for r in Read.select(Read.id).where(Read.id.in_(read_ids))}
    missing = sorted(set(read_ids) - found)
    if missing:
        raise HoldError(f"no stored read with id {', '.join(map(str, missing))} "
                        "(purged or never stored); no hold placed")
    with database.atomic():
        holds = [EvidenceHold.create(read=rid, kind=kind, case_number=case_number, reason=reason,
                                     placed_by=username, placed_at=utcnow())
                 for rid in sorted(found)]
        audit.record("hold.place", username=username, case_number=case_number, purpose=reason,
                     query="reads " + ",".join(map(str, sorted(found))), detail=kind)
    return holds


def lift(case_number: str, username: str, read_ids: list[int] | None = None,
         reason: str = "") -> int:
    """Lift the active holds of a case (optionally only on some reads); returns how many."""
    query = EvidenceHold.select().where((EvidenceHold.case_number == case_number)
                                        & EvidenceHold.lifted_at.is_null())
    if read_ids:
        query = query.where(EvidenceHold.read.in_(read_ids))
    holds = list(query)
    if not holds:
        raise HoldError(f"no active hold for case {case_number!r}")
    with database.atomic():
        now = utcnow()
        for hold in holds:
            hold.lifted_at = now
            hold.lifted_by = username
            hold.save()
        audit.record("hold.lift", username=username, case_number=case_number, purpose=reason,
                     query="reads " + ",".join(str(h.read_id) for h in holds))
    return len(holds)


def active(case_number: str = "") -> list[EvidenceHold]:
    query = EvidenceHold.select().where(EvidenceHold.lifted_at.is_null())
    if case_number:
        query = query.where(EvidenceHold.case_number == case_number)
    return list(query.order_by(EvidenceHold.id))
