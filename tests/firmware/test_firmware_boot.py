"""Booting firmware/main.py under MicroPython with a board's heap, over a pty line.

A setting that passed validation must never leave the board unbootable or
off the link: the default config fits a 300 KB heap with room to run, and a
setting the board cannot honour (no driver, too little memory) falls back
to its default and is reported in status (config_problems).
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
from _mp_helpers import REPO

from gateway.link.session import BoardSession
from tools.sim.line import Line
from tools.sim.runner import FRAMES

KEY = bytes(range(32))


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def boot(micropython_bin, tmp_path):
    """boot(settings, heap="300K", patch="") -> (BoardSession, Popen) for a board on a fresh line."""
    started = []

    def _boot(settings, heap="300K", patch=""):
        line = Line().start()
        cfg = {"board_id": "boot-1", "key_hex": KEY.hex(), "pty": line.board_port,
               "frames_dir": str(FRAMES), "sim_trigger_ms": 0, **settings}
        path = tmp_path / "config.json"
        path.write_text(json.dumps(cfg))
        # main.py reads sys.argv; `patch` runs first (e.g. to defeat the memory budget).
        script = f"import sys\nsys.argv[:] = ['main.py', {str(path)!r}]\n{patch}\nimport main\n"
        log = open(tmp_path / "firmware.log", "wb")  # noqa: SIM115 - closed at teardown
        proc = subprocess.Popen(
            [micropython_bin, "-X", f"heapsize={heap}", "-c", script], stdout=log, stderr=log,
            cwd=tmp_path, env={**os.environ, "MICROPYPATH": f".frozen:{REPO / 'firmware'}:{REPO}"})
        session = BoardSession.open(line.gateway_port, key=KEY)
        started.append((line, proc, session, log))
        return session, proc

    yield _boot
    for line, proc, session, log in started:
        session.close()
        if proc.poll() is None:
            proc.terminate()
            proc.wait(5)
        line.stop()
        log.close()


def _log(tmp_path):
    return (tmp_path / "firmware.log").read_text(errors="replace")


def test_default_config_boots_and_sends_in_a_300k_heap(boot, tmp_path):
    # The defaults once needed 4 x 64 KB of frame slots: MemoryError at 300 KB.
    s, proc = boot({})
    try:
        s.wait_hello(timeout=20)
    except Exception:
        pytest.fail("no hello; firmware log:\n" + _log(tmp_path))
    status = s.command("status", timeout=5)["result"]
    assert status["config_problems"] == []
    assert s.command("trigger_test", timeout=5)["ok"]
    assert _wait_for(lambda: len(s.frames) >= 3), _log(tmp_path)  # the default burst of 3
    status = s.command("status", timeout=5)["result"]
    assert status["sent"] == 3 and status["drops"] == 0 and status["task_errors"] == 0
    assert status["mem_free"] > 16384  # room to run, as self_test demands
    assert s.command("self_test", timeout=5)["result"]["ok"] is True
    assert proc.poll() is None


@pytest.mark.parametrize("settings, problem", [
    ({"transport": "uart"}, "transport uart: no driver for transport 'uart'"),
    ({"frame_slots": 32, "max_frame_bytes": 1048576}, "frame_slots x max_frame_bytes (32 x 1048576)"),
])
def test_a_setting_the_board_cannot_honour_falls_back_and_is_reported(boot, tmp_path, settings,
                                                                      problem):
    s, proc = boot(settings)
    try:
        s.wait_hello(timeout=20)
    except Exception:
        pytest.fail("no hello; firmware log:\n" + _log(tmp_path))
    problems = s.command("status", timeout=5)["result"]["config_problems"]
    assert any(problem in p for p in problems), problems
    assert s.command("trigger_test", timeout=5)["ok"]
    assert _wait_for(lambda: len(s.frames) >= 3), _log(tmp_path)


def test_out_of_memory_at_boot_falls_back_to_the_default_pool(boot, tmp_path):
    # The budget passed (here: defeated) but the heap could not hold the pool.
    s, _ = boot({"frame_slots": 8, "max_frame_bytes": 1048576},
                patch="import config\nconfig.RUN_RESERVE = -(1 << 30)")
    try:
        s.wait_hello(timeout=20)
    except Exception:
        pytest.fail("no hello; firmware log:\n" + _log(tmp_path))
    problems = s.command("status", timeout=5)["result"]["config_problems"]
    assert any("out of memory with frame_slots 8" in p for p in problems), problems
    cfg = s.command("config_get", timeout=5)["result"]
    assert (cfg["frame_slots"], cfg["max_frame_bytes"]) == (4, 32768)


def test_the_ir_illuminator_is_switched_on_from_the_pin_maps_ir_enable(boot, tmp_path):
    # hardware/power.md and the wiring diagrams: the board drives the illuminator's MOSFET gate
    # (100 kOhm pull-down, off while booting) high on the pin map's ir_enable pin. The Unix port
    # has no machine.Pin: a stand-in records what the firmware does with the pins.
    pinmap = tmp_path / "pinmap.json"
    pinmap.write_text(json.dumps({"board": "bench", "pins": {"ir_enable": "P8"}}))
    record = tmp_path / "pins.log"
    patch = f"""
import sys
class Pin:
    OUT = 1
    IN = 0
    PULL_UP = 2
    PULL_DOWN = 3
    def __init__(self, name, mode=-1, *args):
        self.name = name
        self._log("init", mode)
    def _log(self, *what):
        with open({str(record)!r}, "a") as fh:
            fh.write(" ".join(str(w) for w in (self.name,) + what) + "\\n")
    def value(self, v=None):
        if v is not None:
            self._log("value", v)
        return 0
class _Machine:
    pass
machine = _Machine()
machine.Pin = Pin
sys.modules["machine"] = machine
"""
    s, _ = boot({"pinmap": str(pinmap)}, patch=patch)
    try:
        s.wait_hello(timeout=20)
    except Exception:
        pytest.fail("no hello; firmware log:\n" + _log(tmp_path))
    lines = record.read_text().splitlines()
    assert "P8 init 1" in lines and lines[-1] == "P8 value 1", lines
