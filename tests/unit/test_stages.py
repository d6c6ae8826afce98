"""The supervisor: a stage that keeps dying is marked failed and named, and tried again later."""

from __future__ import annotations

import threading

from gateway.stages import Supervisor


class _Broken:
    name = "link"

    def __init__(self, failures: int = 10**9):
        self.runs = 0
        self.failures = failures
        self.up = threading.Event()

    def run(self, stop):
        self.runs += 1
        if self.runs <= self.failures:
            raise OSError("no such device /dev/ttyACM0")
        self.up.set()
        stop.wait()


class _Fine:
    name = "upload"

    def run(self, stop):
        stop.wait()


def test_a_stage_that_keeps_dying_is_marked_failed_and_named_with_its_error():
    stop = threading.Event()
    sup = Supervisor(stop, max_restarts=1, window_s=60.0, retry_s=60.0)
    broken = _Broken()
    sup.start(broken)
    sup.start(_Fine())
    waited = threading.Event()
    for _ in range(600):  # a safety net: it is marked failed after its second death
        if sup.failures():
            break
        waited.wait(0.05)
    assert broken.runs == 2
    assert sup.status() == {"link": "failed", "upload": "running"}
    assert sup.failures() == {"link": "no such device /dev/ttyACM0"}
    stop.set()
    sup.join(5)
    assert not any(t.is_alive() for t in sup.threads.values())


def test_a_failed_stage_is_tried_again_and_comes_back():
    """The web's port held by the previous gateway still stopping, a disk that was full: the cause
    goes away, and the stage must not stay down for the rest of the shift (it was never retried)."""
    stop = threading.Event()
    sup = Supervisor(stop, max_restarts=1, window_s=60.0, retry_s=0.1)
    broken = _Broken(failures=4)
    sup.start(broken)
    assert broken.up.wait(30)  # a safety net
    assert broken.runs == 5 and sup.threads["link"].is_alive()
    stop.set()
    sup.join(5)
