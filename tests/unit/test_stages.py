"""The supervisor: a stage that keeps dying is given up on, and says so."""

from __future__ import annotations

import threading

from gateway.stages import Supervisor


class _Broken:
    name = "link"

    def __init__(self):
        self.runs = 0

    def run(self, stop):
        self.runs += 1
        raise OSError("no such device /dev/ttyACM0")


class _Fine:
    name = "upload"

    def run(self, stop):
        stop.wait()


def test_a_stage_that_keeps_dying_is_given_up_on_and_named_with_its_error():
    stop = threading.Event()
    sup = Supervisor(stop, max_restarts=1, window_s=60.0)
    broken = _Broken()
    sup.start(broken)
    sup.start(_Fine())
    sup.threads["link"].join(30)  # a safety net: it gives up after the second death
    assert not sup.threads["link"].is_alive()
    assert broken.runs == 2
    assert sup.status() == {"link": "failed", "upload": "running"}
    assert sup.failures() == {"link": "no such device /dev/ttyACM0"}
    stop.set()
    sup.join(5)
