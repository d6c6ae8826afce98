"""`alpr flash` for real against a bench board: MicroPython's REPL on a pty.

Copies the compiled firmware, config and pin map with mpremote, verifies them
by SHA-256 read back from the board, and then runs the flashed .mpy modules
under MicroPython to show they load and that the config is the board's.
"""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest
from _flash_helpers import BenchBoard

from tools.cli.main import main
from tools.flash.boards import PROFILES
from tools.flash.build import BuiltFile
from tools.flash.device import BoardFiles
from tools.flash.steps import FlashError, FlashJob


def _provision(data: str, board_id: str, capsys) -> None:
    assert main(["--data", data, "provision", "new", board_id, "--board-type", "openmv",
                 "--pinmap", "hardware/pinmaps/openmv-h7-plus.json"]) == 0
    capsys.readouterr()


def test_flash_copies_verifies_and_the_board_loads_it(micropython_bin, tmp_path, capsys):
    data = str(tmp_path / "data")
    _provision(data, "cam-bench", capsys)
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "board.py").write_text("raise RuntimeError('stale source must not shadow the .mpy')\n")
    with BenchBoard(micropython_bin, flash) as bench:
        code = main(["--data", data, "flash", "--board", "openmv", "--port", bench.port,
                     "--board-id", "cam-bench", "--no-reset", "--no-service", "--json"])
        out = capsys.readouterr()
        assert code == 0, out.err
    result = json.loads(out.out)
    assert result["verified"] is True
    stale = next(s for s in result["steps"] if s["action"].startswith("remove old"))
    assert "board.py" in stale["detail"]
    assert not (flash / "board.py").exists()
    assert (flash / "main.py").exists() and (flash / "shared" / "cbor.mpy").exists()
    config = json.loads((flash / "config.json").read_text())
    assert config["board_id"] == "cam-bench" and len(config["key_hex"]) == 64
    assert config["pinmap"] == "pinmap.json"
    # The flashed modules (only .mpy but main.py) load under MicroPython, and the
    # firmware's own config loader accepts what was written.
    probe = ("import config, board, capture, transport, trigger, shared.framing\n"
             "c = config.load('config.json')\n"
             "p = config.load_pinmap(c['pinmap'])\n"
             "print(c['board_id'], c['trigger_pin'], p['board'])\n")
    run = subprocess.run([micropython_bin, "-c", probe], cwd=flash, capture_output=True,
                         text=True, timeout=30, env={"MICROPYPATH": ".frozen:."})
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["cam-bench", "P7", "openmv-h7"]


def test_flash_without_board_id_keeps_the_boards_config(micropython_bin, tmp_path, capsys):
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "config.json").write_text('{"board_id": "kept"}')
    with BenchBoard(micropython_bin, flash) as bench:
        code = main(["--data", str(tmp_path / "data"), "flash", "--board", "openmv", "--port",
                     bench.port, "--no-reset", "--no-service"])
        out = capsys.readouterr().out
    assert code == 0
    assert "flashed and verified" in out
    assert json.loads((flash / "config.json").read_text()) == {"board_id": "kept"}


def test_a_port_without_micropython_gives_an_actionable_error(tmp_path, capsys):
    code = main(["--data", str(tmp_path / "data"), "flash", "--board", "openmv", "--port",
                 str(tmp_path / "ttyNONE"), "--no-service"])
    assert code == 1
    assert "port may be in use" in capsys.readouterr().err


def test_verification_catches_a_file_that_differs_on_the_board(micropython_bin, tmp_path):
    local = tmp_path / "main.py"
    local.write_bytes(b"print('the version we meant to flash')\n")
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "main.py").write_bytes(b"print('a half-written or older file')\n")
    wanted = BuiltFile("main.py", local, local.stat().st_size,
                       hashlib.sha256(local.read_bytes()).hexdigest())
    job = FlashJob(profile=PROFILES["openmv"], port="unused")
    with BenchBoard(micropython_bin, flash) as bench:
        board = BoardFiles(bench.port)
        try:
            with pytest.raises(FlashError, match="verification failed for main.py"):
                job._verify(board, [wanted])
            board.write("main.py", local.read_bytes())
            assert job._verify(board, [wanted]) == "verified: 1 files match"
        finally:
            board.close()


def _flash_until_board_fails(bench, tmp_path, capsys, fail) -> tuple[int | None, str]:
    """Run `alpr flash` against the bench board; `fail(bench)` strikes at the third file."""
    import threading

    from tools.flash import device

    real_write = device.BoardFiles.write
    writes = []

    def write(self, dest, data):
        writes.append(dest)
        if len(writes) == 3:
            fail(bench)
        return real_write(self, dest, data)

    result: dict = {}

    def run():
        result["code"] = main(["--data", str(tmp_path / "data"), "flash", "--board", "openmv",
                               "--port", bench.port, "--no-reset", "--no-service"])

    device.BoardFiles.write = write
    try:
        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(60)
    finally:
        device.BoardFiles.write = real_write
    return result.get("code"), capsys.readouterr().err


def test_a_cable_pulled_mid_copy_is_a_message_naming_the_cable(micropython_bin, tmp_path,
                                                                capsys):
    import os

    def pull(bench):
        # The board and its end of the line go away, as a USB device unplugged.
        bench.proc.kill()
        bench.proc.wait(5)
        os.close(bench._master)
        bench._master = os.open(os.devnull, os.O_RDONLY)

    with BenchBoard(micropython_bin, tmp_path / "flash") as bench:
        code, err = _flash_until_board_fails(bench, tmp_path, capsys, pull)
    assert code == 1
    assert "stopped answering while writing" in err and "USB cable" in err, err
    assert "alpr flash` again" in err


def test_a_board_that_hangs_mid_copy_ends_the_flash_with_a_message(micropython_bin, tmp_path,
                                                                   capsys, monkeypatch):
    import signal

    from tools.flash import device

    monkeypatch.setattr(device, "IO_TIMEOUT_S", 1.0, raising=False)
    with BenchBoard(micropython_bin, tmp_path / "flash") as bench:
        code, err = _flash_until_board_fails(
            bench, tmp_path, capsys, lambda bench: bench.proc.send_signal(signal.SIGSTOP))
        bench.proc.send_signal(signal.SIGCONT)
    assert code == 1, "alpr flash still waiting on a board that stopped answering"
    assert "stopped answering while writing" in err, err
