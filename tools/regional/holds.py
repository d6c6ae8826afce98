"""Evidence holds at the regional center (policy 462.4): a held read is kept past
day 365 until its case's hold is lifted; the purge skips it.

The reference server has no accounts, so the person is the name given with
--user, recorded as given. Each hold and lift goes into the access record with
that name (in `terminal`, the column that says who acted; `remote` is
"console"), the case, the reason and the reads' uids.
"""

from __future__ import annotations

import datetime as dt
import logging

from gateway.errors import AlprError
from gateway.hotlist.plates import normalize
from tools.regional.models import RegionalAccess, RegionalHold, RegionalRead, database, utcnow

logger = logging.getLogger(__name__)

CONSOLE = "console"  # RegionalAccess.remote for a person at the server's console


class RegionalHoldError(AlprError):
    """A hold or lift was refused before anything changed; the message says why."""


def person(user: str) -> str:
    name = (user or "").strip()
    if not name:
        raise RegionalHoldError("--user NAME is required: every access to the center's reads "
                                "is recorded with the person's name (policy 462.5)")
    return name


def record(user: str, action: str, detail: str) -> None:
    RegionalAccess.create(terminal=user, remote=CONSOLE, action=action, detail=detail)


def select_reads(uids: list[str] | None = None, plate: str = "",
                 since: dt.datetime | None = None, until: dt.datetime | None = None) -> list:
    """The reads named by uid, or those whose plate matches (* and ? wildcards) in
    [since, until) by seen_at, as the car's `alpr evidence` commands select them."""
    if uids:
        found = list(RegionalRead.select(RegionalRead.id, RegionalRead.uid)
                     .where(RegionalRead.uid.in_(uids)))
        missing = sorted(set(uids) - {r.uid for r in found})
        if missing:
            raise RegionalHoldError(f"no read with uid {', '.join(missing)} at the center; "
                                    "nothing was held")
        return found
    glob = normalize(plate or "")
    if not glob.strip("*?"):
        raise RegionalHoldError("give --reads UID,... or --plate PATTERN with at least one plate "
                                "character")
    query = RegionalRead.select(RegionalRead.id, RegionalRead.uid)
    if "*" in glob or "?" in glob:
        query = query.where(RegionalRead.plate ** glob.replace("*", "%").replace("?", "_"))
    else:
        query = query.where(RegionalRead.plate == glob)
    if since is not None:
        query = query.where(RegionalRead.seen_at >= since)
    if until is not None:
        query = query.where(RegionalRead.seen_at < until)
    found = list(query.order_by(RegionalRead.id))
    if not found:
        raise RegionalHoldError(f"no read at the center matches {plate!r} in that time range; "
                                "nothing was held")
    return found


def place(reads: list, case: str, user: str, reason: str = "") -> int:
    """Hold `reads` for `case`; returns how many new holds (a read already held for the
    case is not held twice). Recorded with the user's name."""
    user = person(user)
    case = (case or "").strip()
    if not case:
        raise RegionalHoldError("--case is required: a hold belongs to a case or records request")
    with database.atomic():
        already = {h.read_id for h in RegionalHold.select(RegionalHold.read).where(
            (RegionalHold.case_number == case) & RegionalHold.lifted_at.is_null()
            & RegionalHold.read.in_([r.id for r in reads]))}
        new = [r for r in reads if r.id not in already]
        for r in new:
            RegionalHold.create(read=r.id, case_number=case, placed_by=user)
        record(user, "hold", f"case {case}: {len(new)} reads held "
                             f"({len(reads) - len(new)} already); reason: {reason or '-'}; "
                             f"uids {','.join(r.uid for r in reads)}")
    logger.info("%d reads held at the center for case %s by %s", len(new), case, user)
    return len(new)


def lift(case: str, user: str, reason: str = "") -> int:
    """Lift every active hold of `case`; returns how many. Recorded with the user's name."""
    user = person(user)
    with database.atomic():
        active = RegionalHold.select(RegionalHold.id).where(
            (RegionalHold.case_number == case) & RegionalHold.lifted_at.is_null())
        count = RegionalHold.update(lifted_at=utcnow()).where(RegionalHold.id.in_(active)).execute()
        record(user, "lift", f"case {case}: {count} holds lifted; reason: {reason or '-'}")
    logger.info("%d holds of case %s lifted at the center by %s", count, case, user)
    return count
