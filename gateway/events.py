"""In-process notifications between stages: a read was stored, an alert was
raised, a board's status changed. The web UI turns them into server-sent
events; the uploader wakes on them.

Each subscriber has its own bounded queue. A subscriber that falls behind
loses the oldest notifications (counted in `dropped`), never blocks the
publisher: notifications are hints, the store is the truth.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass
class Event:
    kind: str  # read | alert | board | upload | warning
    data: dict[str, Any] = field(default_factory=dict)


class Subscription:
    def __init__(self, bus: EventBus, maxsize: int):
        self._bus = bus
        self.queue: queue.Queue[Event] = queue.Queue(maxsize)
        self.dropped = 0

    def get(self, timeout: float | None = None) -> Event | None:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._bus.unsubscribe(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []

    def subscribe(self, maxsize: int = 256) -> Subscription:
        sub = Subscription(self, maxsize)
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def publish(self, kind: str, **data: Any) -> None:
        event = Event(kind, data)
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            while True:
                try:
                    sub.queue.put_nowait(event)
                    break
                except queue.Full:
                    try:
                        sub.queue.get_nowait()
                        sub.dropped += 1
                    except queue.Empty:
                        pass


bus = EventBus()
