"""Template filters and helpers: times, confidences, priorities."""

from __future__ import annotations

import datetime as dt

PRIORITY_NAMES = {1: "critical", 2: "high", 3: "medium"}


def when(value) -> str:
    """Naive UTC datetime -> local time for the officer, to the second."""
    if not value:
        return ""
    if isinstance(value, str):
        return value
    local = value.replace(tzinfo=dt.UTC).astimezone()
    return local.strftime("%Y-%m-%d %H:%M:%S")


def clock(value) -> str:
    if not value:
        return ""
    return value.replace(tzinfo=dt.UTC).astimezone().strftime("%H:%M:%S")


def epoch(value) -> str:
    """Seconds since the epoch (time.time()) -> local time."""
    try:
        return dt.datetime.fromtimestamp(float(value)).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


def pct(value) -> str:
    try:
        return f"{float(value) * 100:.0f}%"
    except (TypeError, ValueError):
        return ""


def priority_class(priority) -> str:
    try:
        p = int(priority)
    except (TypeError, ValueError):
        p = 5
    return f"prio-{min(max(p, 1), 4)}"


def priority_name(priority) -> str:
    try:
        return PRIORITY_NAMES.get(int(priority), "notice")
    except (TypeError, ValueError):
        return "notice"


def init_app(app) -> None:
    from gateway.store.alerts import sightings

    app.jinja_env.filters.update(when=when, clock=clock, epoch=epoch, pct=pct, priority_class=priority_class,
                                 priority_name=priority_name)
    app.jinja_env.globals.update(sightings=sightings)  # (count, latest) of an alert's repeat hits
