"""Numbers taken from a URL, kept within what SQLite can hold.

A row id or page number past 2**63 - 1 made peewee raise OverflowError,
which the officer saw as a server error; such a row cannot exist (404) and
such a page is past the last one.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

SQLITE_MAX_INT = 2**63 - 1
MAX_PAGE = 1_000_000  # pages of 50-100 rows: past any table a car holds


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route: an id SQLite cannot hold matches no route (404)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", SQLITE_MAX_INT)
        super().__init__(map, *args, **kwargs)


def page_number(args) -> int:
    """The `page` query argument: 1 when absent or not a number, at most MAX_PAGE."""
    return min(max(args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


def init_app(app) -> None:
    app.url_map.converters["int"] = RowIdConverter
