"""The regional store's one-year retention (policy 462.4): a read is purged on
the 366th day after the server received it, unless an evidence hold or a
records request keeps it. Every purge is logged in the access record, with the
count.

The clock is the server's (`received_at`), not the car's `seen_at`: a car with
a wrong clock made reads vanish at once (seen_at years ago) or outlive the
year (seen_at in the future). The policy keeps data "downloaded to the server"
for one year, which is the received time."""

from __future__ import annotations

import datetime as dt
import logging

from gateway.errors import AlprError
from tools.regional.holds import record
from tools.regional.models import RegionalAccess, RegionalHold, RegionalRead, database, utcnow

logger = logging.getLogger(__name__)

POLICY_DAYS = 365  # policy 462.4: stored for one year, purged on the 366th day


class RetentionError(AlprError):
    """A purge was refused before anything was deleted."""


def purge(now: dt.datetime | None = None, days: int = POLICY_DAYS, override_reason: str = "",
          user: str = "") -> int:
    """Delete the reads received more than `days` ago that no hold keeps, and record the purge.

    `days` under 1 would put the cutoff at or after now and delete every read, so it is refused
    outright; under the policy's 365 days it is refused unless `override_reason` says why (a court
    order, say), and that reason goes into the access record with the count. `user` is the
    person who ran it (recorded by name, remote "console"); empty for the server's daily run."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise RetentionError(f"--days {days!r}: a purge keeps at least 1 day of reads (policy 462.4 "
                             f"keeps {POLICY_DAYS}); nothing was purged")
    reason = (override_reason or "").strip()
    if days < POLICY_DAYS and not reason:
        raise RetentionError(f"--days {days} would purge reads younger than the {POLICY_DAYS} days "
                             "policy 462.4 keeps them; nothing was purged. If an order requires it, "
                             "repeat with --override-policy REASON (recorded in the access record)")
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=days)
    held = RegionalHold.select(RegionalHold.read).where(RegionalHold.lifted_at.is_null())
    with database.atomic():
        doomed = RegionalRead.select(RegionalRead.id).where(
            (RegionalRead.received_at < cutoff) & RegionalRead.id.not_in(held)
        )
        count = RegionalRead.delete().where(RegionalRead.id.in_(doomed)).execute()
        detail = f"reads received before {cutoff.isoformat()}: {count}"
        if days < POLICY_DAYS:
            detail += f"; {days} days instead of the policy's {POLICY_DAYS}: {reason}"
            logger.warning("retention shortened to %d days (%s)", days, reason)
        who = (user or "").strip()
        if who:
            record(who, "purge", detail)
        else:
            RegionalAccess.create(action="purge", terminal="server", remote="", detail=detail)
    if count:
        logger.info("retention purged %d reads received before %s", count, cutoff)
    return count
