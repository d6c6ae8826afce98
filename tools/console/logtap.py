"""Board log lines for the console.

The link (gateway.link.connection) hands each LOG message from the board to
Python logging as `board <id>: <text>` at the board's level; the tap keeps
them, with their level, for the console to show.
"""

from __future__ import annotations

import collections
import logging
import threading
import time

LINK_LOGGER = "gateway.link.connection"


class LogTap(logging.Handler):
    def __init__(self, keep: int = 500):
        super().__init__(logging.DEBUG)
        self.lines: collections.deque = collections.deque(maxlen=keep)
        self._seq = 0
        self._lock2 = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.msg == "board %s: %s" and len(record.args or ()) == 2:
            source, text = str(record.args[0]), str(record.args[1])
        else:
            source = "link"
        with self._lock2:
            self._seq += 1
            self.lines.append({"seq": self._seq, "at": time.time(), "source": source,
                               "level": record.levelname.lower(), "text": text})

    def since(self, seq: int) -> list[dict]:
        with self._lock2:
            return [line for line in self.lines if line["seq"] > seq]

    @property
    def last_seq(self) -> int:
        return self._seq

    def attach(self) -> LogTap:
        log = logging.getLogger(LINK_LOGGER)
        log.addHandler(self)
        log.setLevel(logging.DEBUG)
        # Shown by the console itself; not also as stderr noise under the prompt.
        log.propagate = False
        return self

    def detach(self) -> None:
        log = logging.getLogger(LINK_LOGGER)
        log.removeHandler(self)
        log.propagate = True
        log.setLevel(logging.NOTSET)
