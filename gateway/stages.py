"""Running pipeline stages as supervised threads with one shared stop event.

A stage is any object with a `name` and a `run(stop)` method that loops until
`stop` is set (typically on `queue.get(timeout=1)`). The supervisor restarts
a stage that dies, quickly at first (a growing pause, up to 5 s); past
`max_restarts` deaths in `window_s` it logs an error, marks the stage failed
and tries it again every `retry_s` only (a port another program held, a disk
that was full, may come back: the stage must not stay down for the rest of
the shift). A dead stage is never silently ignored: `failures()` says which
stages keep failing and why, for the devices page; a stage counts as
recovered once a retry has run `window_s`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

logger = logging.getLogger(__name__)


class Stage(Protocol):
    name: str

    def run(self, stop: threading.Event) -> None: ...


class Supervisor:
    def __init__(self, stop: threading.Event, max_restarts: int = 5, window_s: float = 60.0,
                 retry_s: float = 60.0):
        self.stop = stop
        self.max_restarts = max_restarts
        self.window_s = window_s
        self.retry_s = retry_s
        self.threads: dict[str, threading.Thread] = {}
        self.restarts: dict[str, list[float]] = {}
        self.failed: set[str] = set()
        self.last_error: dict[str, str] = {}
        self._running_since: dict[str, float] = {}  # stage -> start of its current run

    def start(self, stage: Stage) -> None:
        thread = threading.Thread(target=self._guard, args=(stage,), name=stage.name, daemon=True)
        self.threads[stage.name] = thread
        thread.start()

    def _guard(self, stage: Stage) -> None:
        name = stage.name
        while not self.stop.is_set():
            started = self._running_since[name] = time.monotonic()
            try:
                stage.run(self.stop)
                return
            except Exception as exc:  # noqa: BLE001 - the supervisor exists to survive this
                self._running_since.pop(name, None)
                logger.exception("stage %s died", name)
                self.last_error[name] = str(exc) or type(exc).__name__
                now = time.monotonic()
                if name in self.failed and now - started >= self.window_s:
                    self.failed.discard(name)  # it had recovered: this is new trouble
                recent = [t for t in self.restarts.get(name, []) if now - t < self.window_s]
                recent.append(now)
                self.restarts[name] = recent
                if name in self.failed:
                    logger.error("stage %s is still failing (%s); trying it again in %.0f s",
                                 name, self.last_error[name], self.retry_s)
                    self.stop.wait(self.retry_s)
                elif len(recent) > self.max_restarts:
                    logger.error("stage %s died %d times in %.0f s (last error: %s); the other stages go on; "
                                 "trying it again every %.0f s", name, len(recent), self.window_s,
                                 self.last_error[name], self.retry_s)
                    self.failed.add(name)
                    self.stop.wait(self.retry_s)
                else:
                    self.stop.wait(min(2 ** len(recent) * 0.1, 5.0))

    def join(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads.values():
            thread.join(max(0.0, deadline - time.monotonic()))

    def _is_failed(self, name: str, now: float) -> bool:
        """Given up on, and not yet back: a retry counts as recovered once it has run window_s."""
        since = self._running_since.get(name)
        return name in self.failed and (since is None or now - since < self.window_s)

    def status(self) -> dict[str, str]:
        now = time.monotonic()
        return {
            name: "failed" if self._is_failed(name, now) else ("running" if t.is_alive() else "stopped")
            for name, t in self.threads.items()
        }

    def failures(self) -> dict[str, str]:
        """{stage: its last error} for the stages that kept failing and have not recovered."""
        now = time.monotonic()
        return {name: self.last_error.get(name, "") for name in sorted(self.failed) if self._is_failed(name, now)}
