"""`alpr console` against simulated boards: the real firmware under MicroPython on a pty.

One board is provisioned with `alpr provision` into a car's data folder and
run by tools.sim with that key; the console finds the key in the car's device
list, exactly as with a board on USB. A revoked board is refused.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from gateway.errors import AlprError
from tools.cli.main import main
from tools.console.actions import Console
from tools.console.target import ConsoleError, open_port
from tools.sim.board import SimBoard
from tools.sim.line import Line
from tools.sim.runner import FRAMES


@pytest.fixture
def provisioned_sim(tmp_path, capsys):
    """A board provisioned as `sim` with `alpr provision`, running on a simulated line."""
    data = tmp_path / "data"
    assert main(["--data", str(data), "provision", "new", "bench-1", "--board-type", "sim",
                 "--json"]) == 0
    config = json.loads((data / "keys" / "boards" / "bench-1" / "config.json").read_text())
    capsys.readouterr()
    line = Line().start()
    board = SimBoard("bench-1", bytes.fromhex(config["key_hex"]), line.board_port, FRAMES,
                     tmp_path / "board", {"sim_trigger_ms": 0}).start()
    yield str(data), line.gateway_port
    board.stop()
    line.stop()


def _console(capsys, data, port, command, *extra) -> tuple[int, str, str]:
    code = main(["--data", data, "console", port, "--command", command, "--json", *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_status_from_the_cars_device_list(provisioned_sim, capsys):
    data, port = provisioned_sim
    code, out, err = _console(capsys, data, port, "status")
    assert code == 0, err
    status = json.loads(out)
    assert status["board_id"] == "bench-1" and status["firmware_version"]
    assert status["uptime"] >= 0 and {"triggers", "frames", "sent", "drops"} <= set(
        status["counters"])
    code, _, err = _console(capsys, data, port, "config set burst=99")
    assert code == 1 and "between 1 and 16" in err


@pytest.fixture
def console(provisioned_sim):
    """One console session on the provisioned board, keys from the car's device list."""
    from gateway.store import devices
    from gateway.store.db import open_database

    data, port = provisioned_sim
    db = open_database(f"{data}/alpr.db")
    target = open_port(port, devices.device_key, 921600)
    target.session.wait_hello(timeout=10)
    shown: list[str] = []
    con = Console(target, out=shown.append)
    yield con
    con.close()
    target.close()
    db.close()


def test_config_set_shows_a_diff_and_saves_only_when_told(console):
    result, text = console.run_line("config set burst=2")
    assert result == {"diff": [{"name": "burst", "old": 3, "new": 2}], "saved": False,
                      "reboot_needed": []}
    assert "burst: 3 -> 2" in text and "--yes" in text
    assert console.run_line("config get burst")[0] == {"burst": 3}
    asked = []
    console.confirm = lambda question: asked.append(question) or False
    assert console.run_line("config set burst=2")[0]["saved"] is False and asked
    console.confirm = lambda question: True
    result, _ = console.run_line("config set burst=2 jpeg_quality=70")
    assert result["saved"] is True
    assert console.run_line("config get burst jpeg_quality key_hex")[0] == {
        "burst": 2, "jpeg_quality": 70, "key_hex": "(set)"}
    with pytest.raises(ConsoleError, match="--rekey"):
        console.run_line("config set key_hex=00")
    with pytest.raises(ConsoleError, match="unknown setting"):
        console.run_line("config set warp_drive=1")


def test_trigger_frame_aim_selftest_timesync(console, tmp_path):
    assert console.run_line("config set burst=2", yes=True)[0]["saved"]
    assert console.run_line("trigger")[0]["frames_received"] == 2

    jpg = tmp_path / "test.jpg"
    result, _ = console.run_line(f"frame {jpg}")
    image = cv2.imdecode(np.frombuffer(jpg.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[1] == result["width"]

    result, _ = console.run_line("aim --count 2 --roi 10,10,100,60")
    rounds = result["rounds"]
    assert len(rounds) == 2 and result["best_sharpness"] == max(r["sharpness"] for r in rounds)
    assert all(r["roi"] == [10, 10, 100, 60] and r["sharpness"] > 0 and r["exposure_us"] > 0
               and r["fps"] for r in rounds)
    with pytest.raises(AlprError, match="outside"):
        console.run_line("aim --count 1 --roi 0,0,99999,10")

    assert console.run_line("self-test")[0]["ok"] is True
    assert abs(console.run_line("time_sync")[0]["offset_s"]) < 60
    assert console.run_line("service on")[0]["service"] is True
    assert console.run_line("status")[0]["state"] == "service"
    assert console.run_line("service off")[0]["service"] is False
    with pytest.raises(ConsoleError, match="unknown command"):
        console.run_line("warp 9")


def test_a_revoked_board_is_refused(provisioned_sim, capsys):
    data, port = provisioned_sim
    assert main(["--data", data, "provision", "revoke", "bench-1"]) == 0
    capsys.readouterr()
    code, _, err = _console(capsys, data, port, "status", "--hello-timeout", "5")
    assert code == 1 and "no authenticated hello" in err


def test_console_sim_status_json_from_the_command_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "tools.cli.main", "console", "--sim",
                           "--command", "status", "--json"], capture_output=True, text=True,
                          timeout=90)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1
    status = json.loads(lines[0])
    for key in ("board_id", "firmware_version", "uptime", "counters"):
        assert key in status
    assert status["board_id"] == "sim-1"


def test_usage_errors_are_clear(capsys):
    assert main(["console"]) == 1
    assert "--sim" in capsys.readouterr().err


def test_a_frame_that_cannot_be_saved_leaves_the_console_running(console, tmp_path, capsys):
    from tools.console.shell import ConsoleShell

    # A folder, or a path under a file, is a technician's typo: an error line, not the end
    # of the interactive console.
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConsoleError, match="cannot save the frame as .*another FILE.jpg"):
        console.run_line(f"frame {tmp_path}")
    shell = ConsoleShell(console)
    assert not shell.onecmd(f"frame {tmp_path / 'afile' / 'x.jpg'}")
    assert "error: cannot save the frame" in capsys.readouterr().out
    assert console.run_line("status")[0]["board_id"] == "bench-1"


def test_a_board_unplugged_mid_session_is_named_as_such(tmp_path, capsys):
    from gateway.store import devices
    from gateway.store.db import open_database

    data = tmp_path / "data"
    assert main(["--data", str(data), "provision", "new", "bench-2", "--board-type", "sim",
                 "--json"]) == 0
    config = json.loads((data / "keys" / "boards" / "bench-2" / "config.json").read_text())
    line = Line().start()
    board = SimBoard("bench-2", bytes.fromhex(config["key_hex"]), line.board_port, FRAMES,
                     tmp_path / "board", {"sim_trigger_ms": 0}).start()
    db = open_database(f"{data}/alpr.db")
    target = open_port(line.gateway_port, devices.device_key, 921600)
    try:
        target.session.wait_hello(timeout=10)
        con = Console(target)
        assert con.run_line("status")[0]["board_id"] == "bench-2"
        board.stop()
        line.stop()  # the port goes away, as a USB board unplugged
        # not "did not answer 'status' in 5 s", said at once about a port that is gone
        with pytest.raises(ConsoleError, match="closed: the board was unplugged"):
            for _ in range(50):
                con.run_line("status")
                time.sleep(0.1)
        con.close()
    finally:
        target.close()
        db.close()
        board.stop()
        line.stop()
