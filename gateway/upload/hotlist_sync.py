"""Keeping the car's hotlists in step with the regional server.

On a schedule (upload.hotlist_sync_minutes) and on demand (`request_sync()`),
the car fetches the index of published lists and downloads only those whose
version (the ETag) differs from its own copy. Each download is checked: its
SHA-256 and record count must match the index and the response headers.
A list that passes is swapped in by the store's importer, in one transaction;
one that fails leaves the previous copy active. The time of the last complete
sync is kept, so the officer can be told how old the lists are.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

from gateway.config import Config
from gateway.errors import AlprError
from gateway.hotlist.importer import delete_list, import_file
from gateway.store.models import HotlistList, Setting, utcnow
from gateway.upload.status import HOTLIST_SYNC_KEY, upload_status
from gateway.upload.transport import TransportConfigError, make_session

logger = logging.getLogger(__name__)

SOURCE = "regional"
USERNAME = "regional-sync"
CSV_HEADER = ["plate", "state", "list", "description", "expires"]


class HotlistSyncError(AlprError):
    """A list from the regional server failed its checks; the previous copy stays active."""


@dataclass
class SyncResult:
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    ok: bool = True

    def as_dict(self) -> dict:
        return asdict(self)


class HotlistSync:
    def __init__(self, config: Config, root: Path, session_factory=None):
        self.cfg = config.upload
        self.root = Path(root)
        self._session_factory = session_factory or (lambda: make_session(self.cfg, self.root, 1))

    def sync_once(self) -> SyncResult:
        """One pass over the published lists. Raises on a link or server failure."""
        session, base = self._session_factory()
        result = SyncResult()
        try:
            try:
                resp = session.get(f"{base}/api/v1/hotlists", timeout=self.cfg.timeout_s)
            except requests.RequestException as exc:
                logger.debug("hotlist index from %s failed", base, exc_info=True)
                raise HotlistSyncError(
                    f"cannot reach the regional server at {base} ({_why(exc)}); the hotlists in "
                    "the car are unchanged. Check the cellular link and upload.server_url, then "
                    "try again") from None
            _check_status(resp, "the hotlist index")
            try:
                published = resp.json()["lists"]
            except (ValueError, KeyError, TypeError):
                raise HotlistSyncError(f"{base} did not answer with a hotlist index (is "
                                       "upload.server_url the regional server?); the hotlists in "
                                       "the car are unchanged") from None
            if not isinstance(published, list):
                raise HotlistSyncError(f"{base} answered a hotlist index that is not a list; "
                                       "the hotlists in the car are unchanged")
            names = set()
            index_ok = True
            for i, item in enumerate(published, start=1):
                name = item.get("name") if isinstance(item, dict) else None
                if not isinstance(name, str) or not name:
                    index_ok = False
                    result.failed[f"index entry {i}"] = "no list name in the server's index"
                    logger.error("hotlist index entry %d has no name; skipped", i)
                    continue
                names.add(name)
                try:
                    if self._sync_list(session, base, item):
                        result.updated.append(name)
                    else:
                        result.unchanged.append(name)
                except AlprError as exc:
                    logger.error("hotlist %s not updated: %s", name, exc)
                    result.failed[name] = str(exc)
                except Exception as exc:  # noqa: BLE001 - one bad list must not stop the others
                    logger.exception("hotlist %s not updated", name)
                    result.failed[name] = (f"hotlist {name}: unexpected {type(exc).__name__}: "
                                           f"{exc}; the previous copy stays active")[:300]
            # A list missing from an index that could not be read whole is not withdrawn:
            # it may be the entry that had no name.
            for lst in HotlistList.select().where(HotlistList.source == SOURCE):
                if index_ok and lst.name not in names:
                    delete_list(lst.name, username=USERNAME)
                    result.removed.append(lst.name)
        finally:
            session.close()
        result.ok = not result.failed
        if result.ok:
            now = utcnow().isoformat()
            Setting.insert(key=HOTLIST_SYNC_KEY, value=now, updated_at=utcnow()).on_conflict(
                conflict_target=[Setting.key],
                update={Setting.value: now, Setting.updated_at: utcnow()},
            ).execute()
        return result

    def _sync_list(self, session, base: str, item: dict) -> bool:
        name, version = item["name"], item["version"]
        local = HotlistList.get_or_none(HotlistList.name == name)
        if local is not None and local.source != SOURCE:
            raise HotlistSyncError(f"a local list is already named {name!r}; rename it to take "
                                   "the regional one")
        if local is not None and local.version == version:
            return False
        headers = {"If-None-Match": f'"{local.version}"'} if local is not None and local.version else {}
        try:
            resp = session.get(f"{base}/api/v1/hotlists/{name}", headers=headers,
                               timeout=self.cfg.timeout_s)
        except requests.RequestException as exc:
            raise HotlistSyncError(f"hotlist {name}: the link to the regional server failed "
                                   f"({_why(exc)}); the previous copy stays active") from None
        if resp.status_code == 304:
            return False
        _check_status(resp, f"hotlist {name}")
        body = resp.content
        sha = hashlib.sha256(body).hexdigest()
        etag = resp.headers.get("ETag", "").strip('"')
        if not (sha == item["sha256"] == resp.headers.get("X-Content-SHA256") == etag == version):
            raise HotlistSyncError(f"hotlist {name}: SHA-256 {sha[:12]} does not match the "
                                   f"published {str(item['sha256'])[:12]}; download corrupted")
        try:
            records = json.loads(body)
        except ValueError:
            raise HotlistSyncError(f"hotlist {name}: not valid JSON") from None
        count = len(records) if isinstance(records, list) else -1
        if not (count == item["record_count"] == int(resp.headers.get("X-Record-Count", -2))):
            raise HotlistSyncError(f"hotlist {name}: {count} records, the server published "
                                   f"{item['record_count']}")
        if not records:
            if local is not None:
                delete_list(name, username=USERNAME)
            return True
        self._swap(name, item, records)
        return True

    def _swap(self, name: str, item: dict, records: list[dict]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".hotlist-", suffix=".csv")
        try:
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(CSV_HEADER)
                # checked while written, not in a pass of its own: a list can hold a million records
                for i, rec in enumerate(records, start=1):
                    _check_record(name, i, rec)
                    # one line per record: the CSV import refuses a record over several lines
                    # (there, a stray quote that swallowed the lines after it)
                    writer.writerow([" ".join(str(rec.get(k, "")).splitlines()) for k in CSV_HEADER])
            # The list's identity is the server's, kept in the import's own transaction: written
            # after it, a crash or error in between left a "csv" list of the regional name that
            # every later sync refused as a local one.
            import_file(tmp, "csv", name, username=USERNAME, priority=int(item.get("priority", 5)),
                        covert=bool(item.get("covert", False)),
                        description=str(item.get("description", "")),
                        origin={"source": SOURCE, "version": item["version"],
                                "sha256": item["sha256"]})
        finally:
            Path(tmp).unlink(missing_ok=True)
        logger.info("hotlist %s updated to version %s (%d records)", name, item["version"][:12],
                    len(records))


def _check_record(name: str, i: int, rec) -> None:
    """Record `i` must be an object with a plate and text fields, as the server publishes them;
    the SHA-256 and count only prove the body arrived as published, not that it is a hotlist (a
    body of bare strings crashed the importer and stopped the sync)."""
    if not isinstance(rec, dict):
        raise HotlistSyncError(f"hotlist {name}: record {i} is a {type(rec).__name__}, not a "
                               "plate record; the list is refused and the previous copy stays active")
    plate = rec.get("plate")
    if not isinstance(plate, str) or not plate.strip():
        raise HotlistSyncError(f"hotlist {name}: record {i} has no plate; the list is "
                               "refused and the previous copy stays active")
    bad = [k for k in CSV_HEADER if k in rec and not isinstance(rec[k], str)]
    if bad:
        raise HotlistSyncError(f"hotlist {name}: record {i} field {bad[0]!r} is not text; "
                               "the list is refused and the previous copy stays active")


def _why(exc: requests.RequestException) -> str:
    """A failed request in a few words; requests' own text is a nested repr of urllib3 objects."""
    if isinstance(exc, requests.Timeout):
        return "no answer in time"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS failed: check the certificates and the server pin"
    if isinstance(exc, requests.ConnectionError):
        return "no connection"
    return type(exc).__name__


def _check_status(resp: requests.Response, what: str) -> None:
    if resp.status_code == 403:
        raise HotlistSyncError(f"the regional server refused this car fetching {what}: "
                               "its certificate may be revoked")
    if resp.status_code != 200:
        raise HotlistSyncError(f"{what}: regional server answered {resp.status_code}")


class HotlistSyncStage:
    """Runs HotlistSync on the schedule and whenever request_sync() is called."""

    name = "hotlist-sync"

    def __init__(self, config: Config, datadir, bus=None):
        self.config = config
        self.sync = HotlistSync(config, Path(getattr(datadir, "root", datadir)))
        self._now = threading.Event()
        self.last_result: dict = {}
        self.last_error = ""

    def request_sync(self) -> None:
        self._now.set()

    def run(self, stop: threading.Event) -> None:
        if not self.config.upload.enabled:
            stop.wait()
            return
        while not stop.is_set():
            try:
                result = self.sync_now()
                self.last_error = "" if result.ok else "; ".join(result.failed.values())
            except (requests.RequestException, AlprError, TransportConfigError) as exc:
                self.last_error = str(exc)[:300]
                logger.warning("hotlist sync failed, previous lists stay active: %s", exc)
            except Exception as exc:  # noqa: BLE001 - bad data must not kill the stage
                # A dead stage restarts a few times, then sync stays off with no reason
                # shown; this keeps it running and says what went wrong.
                self.last_error = (f"hotlist sync failed unexpectedly ({type(exc).__name__}: "
                                   f"{exc}); previous lists stay active")[:300]
                logger.exception("hotlist sync failed, previous lists stay active")
            deadline = time.monotonic() + self.config.upload.hotlist_sync_minutes * 60
            while not stop.is_set() and time.monotonic() < deadline:
                if self._now.wait(1.0):
                    break
            self._now.clear()

    def sync_now(self) -> SyncResult:
        result = self.sync.sync_once()
        self.last_result = result.as_dict()
        return result

    def status(self) -> dict:
        status = upload_status()
        return {"hotlist_synced_at": status["hotlist_synced_at"],
                "hotlist_age_s": status["hotlist_age_s"], "last_error": self.last_error,
                "last_result": self.last_result}
