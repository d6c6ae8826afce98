"""Devices: each board's link health, latest frame (to aim the camera) and
counters; recognition (running or why not, its model files and what is wrong
with them, its counters); the upload backlog and the disk space."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping

from flask import Blueprint, Response, abort, render_template

from gateway.store.models import Device
from gateway.web.context import ctx
from gateway.web.session import passive, requires

logger = logging.getLogger(__name__)

bp = Blueprint("devices", __name__, template_folder="templates")


def _as_dict(value) -> dict:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    for attr in ("as_dict", "_asdict", "model_dump"):
        method = getattr(value, attr, None)
        if callable(method):
            return dict(method())
    return {k: v for k, v in vars(value).items() if not k.startswith("_")} if hasattr(value, "__dict__") else {}


def board_stats() -> dict[str, dict]:
    """{board_id: stats} from the link manager, whatever shape its stats() returns."""
    manager = ctx().service("link")
    if manager is None:
        return {}
    try:
        raw = manager.stats()
    except Exception:  # noqa: BLE001 - a broken link stage must not take the page down
        logger.exception("link manager stats() failed")
        return {}
    if isinstance(raw, Mapping):
        return {str(k): _as_dict(v) for k, v in raw.items()}
    boards = {}
    for item in raw or []:
        data = _as_dict(item)
        boards[str(data.get("board_id", len(boards)))] = data
    return boards


def latest_frame(board_id: str):
    manager = ctx().service("link")
    if manager is None:
        return None
    try:
        frames = manager.latest_frames(board_id)
    except (KeyError, LookupError):
        return None
    except Exception:  # noqa: BLE001
        logger.exception("link manager latest_frames() failed")
        return None
    frames = list(frames or [])
    if not frames:
        return None
    # The newest, whichever order the link returns them in.
    return max(frames, key=lambda f: getattr(f, "received_at", 0) or 0)


def stage_status(name: str) -> dict | None:
    """A running stage's status() (upload, recognition) as a dict; None where the stage is not
    running or cannot say."""
    status = getattr(ctx().service(name), "status", None)
    if not callable(status):
        return None
    try:
        return _as_dict(status())
    except Exception:  # noqa: BLE001 - a broken stage must not take the page down
        logger.exception("%s status() failed", name)
        return None


def stage_failures() -> dict[str, str]:
    """{stage: last error} for the stages the supervisor stopped restarting; {} where none."""
    failures = getattr(ctx().service("supervisor"), "failures", None)
    if not callable(failures):
        return {}
    try:
        return dict(failures())
    except Exception:  # noqa: BLE001 - the page must still show the boards
        logger.exception("supervisor failures() failed")
        return {}


def _health(stats: dict) -> tuple[bool, str]:
    if isinstance(stats.get("health"), str):
        return stats["health"] in ("good", "ok"), stats["health"]
    for key in ("healthy", "ok", "connected", "online"):
        if key in stats:
            return bool(stats[key]), str(stats.get("state") or stats.get("status") or
                                         ("ok" if stats[key] else "down"))
    state = str(stats.get("state") or stats.get("status") or "unknown")
    return state.lower() in ("ok", "up", "online", "connected", "healthy", "streaming"), state


@bp.route("/devices")
@requires("devices")
def index():
    stats = board_stats()
    known = {d.board_id: d for d in Device.select().order_by(Device.board_id)}
    boards = []
    for board_id in sorted(set(stats) | set(known)):
        s = stats.get(board_id, {})
        healthy, state = _health(s) if s else (False, "not connected")
        frame = latest_frame(board_id) if s else None
        boards.append({
            "board_id": board_id, "device": known.get(board_id), "stats": s,
            "healthy": healthy, "state": state, "has_frame": frame is not None,
            "frame_at": getattr(frame, "received_at", None),
        })
    usage = shutil.disk_usage(ctx().datadir.root)
    disk = {"free_mb": usage.free // 2**20, "total_mb": usage.total // 2**20,
            "min_free_mb": ctx().config.store.min_free_mb}
    failed = stage_failures()
    upload, recognition = stage_status("upload"), stage_status("recognition")
    for name, status in (("upload", upload), ("recognition", recognition)):
        if status is not None and name in failed:
            status["state"] = "failed"  # it died in its loop: its own state still says running
    return render_template("devices/index.html", boards=boards, upload=upload, disk=disk,
                           recognition=recognition, failed_stages=failed,
                           link_running=ctx().service("link") is not None and "link" not in failed)


@bp.route("/devices/<board_id>/frame.jpg")
@requires("devices")
@passive
def frame(board_id: str):
    latest = latest_frame(board_id)
    jpeg = getattr(latest, "jpeg", None) if latest is not None else None
    if not jpeg:
        abort(404)
    response = Response(bytes(jpeg), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "no-store"
    return response
