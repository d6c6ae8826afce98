"""The regional store's one-year retention (policy 462.4): a read is purged on
the 366th day unless an evidence hold or a records request keeps it. Every
purge is logged in the access record, with the count."""

from __future__ import annotations

import datetime as dt
import logging

from tools.regional.models import RegionalAccess, RegionalHold, RegionalRead, database, utcnow

logger = logging.getLogger(__name__)


def purge(now: dt.datetime | None = None, days: int = 365) -> int:
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=days)
    held = RegionalHold.select(RegionalHold.read).where(RegionalHold.lifted_at.is_null())
    with database.atomic():
        doomed = RegionalRead.select(RegionalRead.id).where(
            (RegionalRead.seen_at < cutoff) & RegionalRead.id.not_in(held)
        )
        count = RegionalRead.delete().where(RegionalRead.id.in_(doomed)).execute()
        RegionalAccess.create(action="purge", terminal="server",
                              detail=f"reads seen before {cutoff.isoformat()}: {count}")
    if count:
        logger.info("retention purged %d reads seen before %s", count, cutoff)
    return count
