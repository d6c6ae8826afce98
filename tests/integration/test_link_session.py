"""The console's client API against a simulated board, and the link surviving re-plugging."""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import time

import pytest

from gateway.config import LinkConfig
from gateway.link.manager import LinkManager
from gateway.link.session import BoardSession, SessionError
from tools.sim.board import SimBoard
from tools.sim.line import Line
from tools.sim.runner import FRAMES

KEY = os.urandom(32)


@pytest.fixture
def board(tmp_path):
    line = Line().start()
    sim = SimBoard("bench-a", KEY, line.board_port, FRAMES, tmp_path / "board",
                   {"sim_trigger_ms": 0}).start()
    yield line, sim
    sim.stop()
    line.stop()


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_console_commands(board):
    line, sim = board
    with BoardSession.open(line.gateway_port, key=KEY) as s:
        hello = s.wait_hello(timeout=15)
        assert hello["board_id"] == "bench-a" and hello["protocol"] == 1
        status = s.command("status")["result"]
        assert status["board_id"] == "bench-a" and status["mem_free"] > 0
        assert s.command("config_get")["result"]["key_hex"] == "(set)"
        changed = s.command("config_set", {"burst": 2, "jpeg_quality": 70})
        assert changed["ok"] and changed["result"]["config"]["burst"] == 2
        refused = s.command("config_set", {"burst": 0})
        assert not refused["ok"] and "burst" in refused["result"]["error"]
        assert s.command("self_test")["result"]["ok"] is True
        # a clock behind the gateway's (one ahead, or before 2020, is replaced by the gateway's
        # receive time: tests/unit/test_link_connection.py), so frames show the sync took
        synced = time.time() - 1000.0
        assert s.command("time_sync", {"time": synced})["ok"]
        assert s.command("service_mode", {"on": True})["result"]["service"] is True
        assert s.command("trigger_test")["ok"]  # a manual trigger works in service mode
        assert s.command("test_frame")["result"]["bytes"] > 0
        assert wait_for(lambda: len(s.frames) >= 3)  # burst of 2 + the test frame
        sources = {hashlib.sha256(p.read_bytes()).hexdigest() for p in FRAMES.glob("*.jpg")}
        assert all(f.sha256 in sources for f in s.frames)
        assert any(abs(f.captured_at - synced) < 60 for f in s.frames)
        boot = hello["boot_id"]
        assert s.command("reboot")["result"]["rebooting"]
        assert wait_for(lambda: s.conn.hello.get("boot_id") != boot, 20)
        assert sim.restarts == 1
        with pytest.raises(ValueError):
            s.conn.command_nowait("format_flash")


def test_wrong_key_gets_no_hello(board):
    line, _ = board
    with BoardSession.open(line.gateway_port, key=b"w" * 32) as s:
        with pytest.raises(SessionError, match="no authenticated hello"):
            s.wait_hello(timeout=4)
        assert s.conn.errors["mac"] >= 1


def test_link_manager_survives_unplug_and_replug(tmp_path):
    alias = str(tmp_path / "ttyBOARD")  # a stable device name, as a udev rule gives
    frames: queue.Queue = queue.Queue(100)
    link = LinkManager(LinkConfig(discover=False), frames, key_lookup=lambda b: KEY,
                       extra_ports=[alias], on_seen=lambda *a: None)
    stop = threading.Event()
    thread = threading.Thread(target=link.run, args=(stop,), daemon=True)
    thread.start()
    try:
        for attempt in range(2):  # plugged in, unplugged, plugged in again
            line = Line().start()
            sim = SimBoard("bench-a", KEY, line.board_port, FRAMES, tmp_path / f"b{attempt}",
                           {"sim_trigger_ms": 0}).start()
            os.symlink(line.gateway_port, alias)
            try:
                assert wait_for(lambda: link.stats().get("bench-a", {}).get("health") == "good", 20)
                assert link.command("bench-a", "test_frame")["ok"]
                want = attempt + 1
                assert wait_for(lambda w=want: len(link.latest_frames("bench-a")) >= w)
            finally:
                os.unlink(alias)
                sim.stop()
                line.stop()
            assert wait_for(lambda: "bench-a" not in link.stats(), 10)
        assert link.counters["port_opens"] == 2
    finally:
        stop.set()
        thread.join(5)


def test_a_bad_trigger_setting_leaves_the_board_reachable(tmp_path):
    line = Line().start()
    sim = SimBoard("bench-b", KEY, line.board_port, FRAMES, tmp_path / "b",
                   {"trigger": "diff", "burst": 99}).start()  # sim camera cannot difference; bad burst
    try:
        with BoardSession.open(line.gateway_port, key=KEY) as s:
            s.wait_hello(timeout=15)
            problems = s.command("status")["result"]["config_problems"]
            assert any(p.startswith("trigger:") for p in problems)
            assert any(p.startswith("burst:") for p in problems)
            assert s.command("config_get")["result"]["burst"] == 3  # the default stands in
    finally:
        sim.stop()
        line.stop()
