"""Running pipeline stages as supervised threads with one shared stop event.

A stage is any object with a `name` and a `run(stop)` method that loops until
`stop` is set (typically on `queue.get(timeout=1)`). The supervisor restarts
a stage that dies, at most `max_restarts` times in `window_s`, then gives up
and logs an error; a dead stage is never silently ignored: `failures()` says
which stages it gave up on and why, for the devices page.
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
    def __init__(self, stop: threading.Event, max_restarts: int = 5, window_s: float = 60.0):
        self.stop = stop
        self.max_restarts = max_restarts
        self.window_s = window_s
        self.threads: dict[str, threading.Thread] = {}
        self.restarts: dict[str, list[float]] = {}
        self.failed: set[str] = set()
        self.last_error: dict[str, str] = {}

    def start(self, stage: Stage) -> None:
        thread = threading.Thread(target=self._guard, args=(stage,), name=stage.name, daemon=True)
        self.threads[stage.name] = thread
        thread.start()

    def _guard(self, stage: Stage) -> None:
        while not self.stop.is_set():
            try:
                stage.run(self.stop)
                return
            except Exception as exc:  # noqa: BLE001 - the supervisor exists to survive this
                logger.exception("stage %s died", stage.name)
                self.last_error[stage.name] = str(exc) or type(exc).__name__
                now = time.monotonic()
                recent = [t for t in self.restarts.get(stage.name, []) if now - t < self.window_s]
                recent.append(now)
                self.restarts[stage.name] = recent
                if len(recent) > self.max_restarts:
                    logger.error("stage %s died %d times in %.0f s; not restarting (last error: %s); the other "
                                 "stages go on; restart the gateway once it is fixed", stage.name, len(recent),
                                 self.window_s, self.last_error[stage.name])
                    self.failed.add(stage.name)
                    return
                self.stop.wait(min(2 ** len(recent) * 0.1, 5.0))

    def join(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads.values():
            thread.join(max(0.0, deadline - time.monotonic()))

    def status(self) -> dict[str, str]:
        return {
            name: "failed" if name in self.failed else ("running" if t.is_alive() else "stopped")
            for name, t in self.threads.items()
        }

    def failures(self) -> dict[str, str]:
        """{stage: its last error} for the stages the supervisor gave up on."""
        return {name: self.last_error.get(name, "") for name in sorted(self.failed)}
