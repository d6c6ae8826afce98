"""What the store's commands share: opening the store, who is acting, dates."""

from __future__ import annotations

import datetime as dt
import getpass

from gateway.errors import AlprError
from gateway.store.setup import Store, open_store
from tools.cli import common


class UsageError(AlprError):
    """A command-line value is malformed."""


def add_user(parser) -> None:
    parser.add_argument("--user", default=None,
                        help="who is acting, for the access record (default: the login name)")


def user(args) -> str:
    if getattr(args, "user", None):
        return args.user
    try:
        return "os:" + getpass.getuser()
    except (KeyError, OSError):
        return "os:unknown"


def store(args) -> Store:
    return open_store(common.datadir(args), common.config(args))


def when(text: str | None, option: str) -> dt.datetime | None:
    """An ISO date or date-time, taken as UTC; None for None."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} {text!r} is not an ISO date (YYYY-MM-DD or "
                         "YYYY-MM-DDTHH:MM:SS, UTC)") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def ids(text: str, option: str) -> list[int]:
    try:
        values = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise UsageError(f"{option} takes read ids separated by commas, e.g. 12,13,20") from None
    if not values:
        raise UsageError(f"{option} needs at least one read id")
    return values
