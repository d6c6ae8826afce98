"""A bench board for flashing tests: the MicroPython Unix port at its REPL on a pty.

mpremote talks to it exactly as to a USB board (raw REPL, file writes,
hashlib on the board); its current folder plays the board's flash.
"""

from __future__ import annotations

import os
import pty
import subprocess
import tty
from pathlib import Path


class BenchBoard:
    def __init__(self, micropython: str, flash_dir: Path):
        self.flash = flash_dir
        self.flash.mkdir(parents=True, exist_ok=True)
        master, slave = pty.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave
        self._master = master
        # The REPL sits on the master end; mpremote opens the slave like a serial port.
        self.proc = subprocess.Popen([micropython], stdin=master, stdout=master, stderr=master,
                                     cwd=flash_dir, env={**os.environ, "MICROPYPATH": "."})

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(5)
        os.close(self._master)
        os.close(self._slave)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
